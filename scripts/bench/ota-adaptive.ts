/**
 * ota --adaptive: what an adaptive update fetches and how long it takes, against the full download of
 * the same image over the same throttled link, in one run. The device's running slot A holds a random
 * base image; each next version changes 1 %, 10 % or 50 % of its chunks, scattered (evenly spread)
 * or contiguous (one run in the middle); the server is paced to `--rate-mibps` (default 10, a
 * field link). For each case: bytes the server sent, the install's time (request to trial armed,
 * read-back included, in a child process as the agent runs it), and — once, on slot A — the time of
 * the local hashing pass that indexes what the device holds. The full download (adaptive off) of the
 * 1 % image is the baseline.
 *   npm run bench -- ota --adaptive [--size-mb 1024] [--chunk-mb 1] [--rate-mibps 10] [--dir /var/tmp]
 */
import { copyFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KeyPair } from '../../agent/core/cose.js';
import { generateKeyPair } from '../../agent/core/cose.js';
import { hashChunks } from '../../agent/ota/chunk-index.js';
import { digestFile } from '../../agent/ota/digest-file.js';
import { signManifest } from '../../agent/ota/manifest.js';
import { round } from './stats.js';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** What ota.ts lends this bench: its device, install child, server and image maker. */
export interface AdaptiveBenchKit {
  makeDevice(
    work: string,
    publicKey: Uint8Array,
    options: { slotA?: string; adaptive: boolean },
  ): Promise<{ config: string; reset(): Promise<void> }>;
  child(config: string, args: string[]): Promise<{ installMs: number; peakRssMb: number }>;
  server: {
    url: string;
    sentBytes: number;
    requests: number;
    rateBytesPerS: number | undefined;
    serve(file: string): Promise<void>;
  };
  randomFile(file: string, bytes: number): Promise<void>;
  dropCaches(): void;
}

interface Case {
  readonly name: string;
  readonly fraction: number;
  readonly layout: 'scattered' | 'contiguous';
}

const CASES: readonly Case[] = [0.01, 0.1, 0.5].flatMap((fraction) =>
  (['scattered', 'contiguous'] as const).map((layout) => ({
    name: `${Math.round(fraction * 100)}% ${layout}`,
    fraction,
    layout,
  })),
);

export async function adaptiveBench(
  flags: Map<string, string>,
  kit: AdaptiveBenchKit,
): Promise<Record<string, unknown>> {
  const sizeMb = Number(flags.get('size-mb') ?? 1024);
  const chunkBytes = Number(flags.get('chunk-mb') ?? 1) * 1024 * 1024;
  const rateMiBps = Number(flags.get('rate-mibps') ?? 10);
  const size = sizeMb * 1024 * 1024;
  const chunks = Math.ceil(size / chunkBytes);
  const work = await mkdtemp(path.join(flags.get('dir') ?? tmpdir(), 'edge-ota-adaptive-'));
  try {
    const base = path.join(work, 'base.img');
    say(
      `generating a ${sizeMb} MiB random base image (${chunks} chunks of ${chunkBytes / 1048576} MiB) in ${work}`,
    );
    await kit.randomFile(base, size);
    const keys = generateKeyPair();
    kit.server.rateBytesPerS = rateMiBps * 1024 * 1024;

    kit.dropCaches();
    const t0 = performance.now();
    await hashChunks(base, chunkBytes, size);
    const hashPassMs = performance.now() - t0;
    say(`hashing pass over ${sizeMb} MiB: ${round(hashPassMs)} ms`);

    const results: Record<string, unknown>[] = [];
    let fullMs = 0;
    let onePercentMs = 0;
    for (const c of [
      { name: 'full download (1% image, adaptive off)', fraction: 0.01, layout: 'scattered' } as const,
      ...CASES,
    ]) {
      const adaptive = !c.name.startsWith('full');
      const changedChunks = pick(chunks, c.fraction, c.layout);
      const image = path.join(work, 'next.img');
      await copyFile(base, image);
      await replaceChunks(image, changedChunks, chunkBytes, size);
      await kit.server.serve(image);
      const manifest = await signed(work, image, chunkBytes, kit.server.url, keys);
      const device = await kit.makeDevice(work, keys.publicKey, { slotA: base, adaptive });
      await device.reset();
      kit.dropCaches();
      kit.server.sentBytes = 0;
      kit.server.requests = 0;
      const run = await kit.child(device.config, ['--manifest', manifest]);
      const fetched = kit.server.sentBytes;
      const changedBytes = changedChunks.length * chunkBytes;
      results.push({
        case: c.name,
        changedChunks: changedChunks.length,
        fetchedBytes: fetched,
        fetchedVsImage: round(fetched / size, 4),
        requests: kit.server.requests,
        installMs: round(run.installMs),
        peakRssMb: round(run.peakRssMb),
      });
      if (!adaptive) fullMs = run.installMs;
      if (adaptive && c.fraction === 0.01 && c.layout === 'scattered') onePercentMs = run.installMs;
      say(
        `${c.name}: fetched ${round(fetched / 1048576, 1)} MiB of ${sizeMb} (changed ${round(changedBytes / 1048576, 1)}) ` +
          `in ${kit.server.requests} requests, install ${round(run.installMs)} ms`,
      );
      await rm(image, { force: true });
    }
    return {
      adaptive: true,
      sizeMb,
      chunkMb: chunkBytes / 1048576,
      rateMiBps,
      hashPassMs: round(hashPassMs),
      fullDownloadMs: round(fullMs),
      onePercentVsFull: round(onePercentMs / fullMs, 3),
      cases: results,
      goal: { fetchedVsImage: 'changed fraction + 0.01', onePercentVsFull: 0.25 },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Which chunks a case changes: spread evenly, or one run in the middle. */
function pick(chunks: number, fraction: number, layout: Case['layout']): number[] {
  const count = Math.max(1, Math.round(chunks * fraction));
  if (layout === 'contiguous') {
    const start = Math.floor((chunks - count) / 2);
    return Array.from({ length: count }, (_, i) => start + i);
  }
  return Array.from({ length: count }, (_, i) => Math.floor((i * chunks) / count));
}

async function replaceChunks(
  file: string,
  which: readonly number[],
  chunkBytes: number,
  size: number,
): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    for (const i of which) {
      const length = Math.min(chunkBytes, size - i * chunkBytes);
      const data = Buffer.alloc(length, (i * 31 + 7) & 0xff);
      data.write(`changed chunk ${i}`);
      await handle.write(data, 0, length, i * chunkBytes);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function signed(
  work: string,
  image: string,
  chunkBytes: number,
  url: string,
  keys: KeyPair,
): Promise<string> {
  const file = path.join(work, 'next.cose');
  await writeSignedManifest(file, await digestFile(image, chunkBytes), chunkBytes, keys, url);
  return file;
}

/** The benches' release: `rootfs` 2.0.0, seq 2, for `sim`, with chunk hashes (and a URL when given). */
export async function writeSignedManifest(
  file: string,
  digest: Awaited<ReturnType<typeof digestFile>>,
  chunkBytes: number,
  keys: KeyPair,
  url?: string,
): Promise<void> {
  await writeFile(
    file,
    signManifest(
      {
        v: 1,
        component: 'rootfs',
        version: '2.0.0',
        seq: 2,
        hw: ['sim'],
        size: digest.sizeBytes,
        sha256: digest.sha256,
        format: 'raw',
        chunk: chunkBytes,
        chunks: digest.chunks!,
        ...(url ? { url } : {}),
      },
      [keys],
    ),
  );
}
