/**
 * ota: installing a large image into an A/B slot, against `dd` of the same image in the same run.
 *  - `dd`: `dd if=IMG of=SLOT bs=1M conv=fsync` (the floor: read, write, fsync — no checks at all);
 *    then `dd if=SLOT iflag=direct` (one sequential read of the slot from the medium): dd plus that
 *    read is the floor of an install that verifies what the medium holds (`floorVsDd`; the install
 *    against it, per run: `localVsFloorPerRunMedian`);
 *  - `local`: our install from a local file — signature check, streaming SHA-256 with per-chunk
 *    hashes, write, fdatasync and journal checkpoints, the slot read back from the medium (O_DIRECT)
 *    after the last write and its chunks' SHA-256 compared in the read-back worker, boot
 *    environment switched (U-Boot, through fw_setenv) — in a child process run as the service unit runs
 *    the agent (its node options, e.g. `--jitless`, and its Environment=, e.g. `UV_USE_IO_URING=0`),
 *    whose peak RSS is reported; beside it the same install reading back only the page cache's copy
 *    (`download.readBack: page-cache`, `localPageCache`): what reading the medium costs — dd and the
 *    two installs in rotating order, so a run of 3 puts each in each place once; for comparison also
 *    with libuv's io_uring default (`localIoUring`);
 *  - `http`: the same from a loopback HTTP server, with `curl URL | dd of=SLOT conv=fsync` as its baseline;
 *  - `resume`: the HTTP install, paced to `--resume-rate-mbps` (default 800, a gigabit LAN), killed
 *    (SIGKILL) once half the image is durable, then resumed by a new process: bytes the server had to
 *    send again, against the chunk size.
 * The page cache is dropped (`sync; echo 3 > /proc/sys/vm/drop_caches`) before each timed step; medians
 * over `--runs`. The image is random data generated once per run in a temp dir on disk.
 *   npm run bench -- ota [--size-mb 1024] [--runs 3] [--chunk-mb 4] [--resume-rate-mbps 800] [--dir /var/tmp] [--quick]
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '../../agent/core/cose.js';
import { publicKeyToPem } from '../../agent/core/ed25519-keys.js';
import { digestFile } from '../../agent/ota/digest-file.js';
import { FACTORY_BOOT_VARS, writeRedundantUbootEnv } from '../ota-emulator/provision.js';
import { drained } from './drained.js';
import { adaptiveBench, writeSignedManifest } from './ota-adaptive.js';
import { unitRuntime } from './service-unit.js';
import { median, parseFlags, round } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CHILD = path.join(ROOT, 'dist/scripts/bench/ota-install-child.js');
const say = (line: string) => process.stderr.write(`${line}\n`);

export async function otaBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args, ['quick', 'adaptive']);
  if (flags.has('adaptive')) {
    const server = new ImageServer();
    try {
      return await adaptiveBench(flags, {
        makeDevice,
        child,
        server,
        randomFile,
        dropCaches: canDropCaches(),
      });
    } finally {
      await server.stop();
    }
  }
  const sizeMb = Number(flags.get('size-mb') ?? 1024);
  const runs = Number(flags.get('runs') ?? 3);
  const chunkBytes = Number(flags.get('chunk-mb') ?? 4) * 1024 * 1024;
  const resumeRateMbps = Number(flags.get('resume-rate-mbps') ?? 800);
  // `--quick`: only dd and the local install (for iterating on the write path); the report is partial.
  const quick = flags.has('quick');
  const work = await mkdtemp(path.join(flags.get('dir') ?? tmpdir(), 'edge-ota-bench-'));
  const server = new ImageServer();
  try {
    const image = path.join(work, 'rootfs.img');
    say(`generating a ${sizeMb} MiB random image in ${work}`);
    await randomFile(image, sizeMb * 1024 * 1024);
    const keys = generateKeyPair();
    const digest = await digestFile(image, chunkBytes);
    await server.start(image);
    const manifestFor = async (name: string, url?: string) => {
      const file = path.join(work, name);
      await writeSignedManifest(file, digest, chunkBytes, keys, url);
      return file;
    };
    const localManifest = await manifestFor('local.cose');
    const httpManifest = await manifestFor('http.cose', server.url);
    const dropCaches = canDropCaches();

    const times: Record<
      'dd' | 'readSlot' | 'local' | 'localPageCache' | 'localIoUring' | 'curlDd' | 'http',
      number[]
    > = {
      dd: [],
      readSlot: [],
      local: [],
      localPageCache: [],
      localIoUring: [],
      curlDd: [],
      http: [],
    };
    const rss: number[] = [];
    const rssLocal: number[] = [];
    const rssHttp: number[] = [];
    for (let run = 1; run <= runs; run++) {
      const device = await makeDevice(work, keys.publicKey);
      let local = { installMs: 0, peakRssMb: 0 };
      // The three side-by-side steps in rotating order: on this machine's disk an install right after
      // dd ran 0.6 s slower than the one after it, whichever read-back it had; placed so, every step
      // takes each place equally often (in runs of 3).
      for (const step of rotate(['dd', 'medium', 'page-cache'] as const, run - 1)) {
        await device.reset();
        dropCaches();
        if (step === 'dd') {
          times.dd.push(await timed(['dd', `if=${image}`, `of=${device.slotB}`, 'bs=1M', 'conv=fsync']));
          // The physical floor of a verified install: dd, then one sequential read of the slot from
          // the medium (O_DIRECT: not from the page cache).
          dropCaches();
          times.readSlot.push(
            await timed(['dd', `if=${device.slotB}`, 'of=/dev/null', 'bs=4M', 'iflag=direct']),
          );
          continue;
        }
        const config = step === 'medium' ? device.config : device.pageCacheConfig;
        const installed = await child(config, ['--manifest', localManifest, '--payload', image]);
        if (step === 'medium') local = installed;
        else times.localPageCache.push(installed.installMs);
      }
      times.local.push(local.installMs);
      rss.push(local.peakRssMb);
      rssLocal.push(local.peakRssMb);
      if (quick) {
        say(
          `run ${run}/${runs}: dd ${round(times.dd.at(-1)!)} ms, local install ${round(local.installMs)} ms ` +
            `(page-cache read-back ${round(times.localPageCache.at(-1)!)} ms)`,
        );
        continue;
      }
      await device.reset();
      dropCaches();
      // libuv 1.46 (Node 20) runs file I/O through io_uring by default, which copies on the main thread.
      const uring = await child(device.config, ['--manifest', localManifest, '--payload', image], undefined, {
        UV_USE_IO_URING: '1',
      });
      times.localIoUring.push(uring.installMs);
      await device.reset();
      dropCaches();
      // Asynchronously: the server runs in this process.
      times.curlDd.push(
        await timed([
          'sh',
          '-c',
          `curl -sS "${server.url}" | dd of="${device.slotB}" bs=1M iflag=fullblock conv=fsync`,
        ]),
      );
      await device.reset();
      dropCaches();
      const http = await child(device.config, ['--manifest', httpManifest]);
      times.http.push(http.installMs);
      rss.push(http.peakRssMb);
      rssHttp.push(http.peakRssMb);
      say(
        `run ${run}/${runs}: dd ${round(times.dd.at(-1)!)} ms, local install ${round(local.installMs)} ms ` +
          `(io_uring ${round(uring.installMs)} ms), ` +
          `curl|dd ${round(times.curlDd.at(-1)!)} ms, http install ${round(http.installMs)} ms, peak RSS ${round(Math.max(local.peakRssMb, http.peakRssMb))} MB`,
      );
    }

    const resume = quick
      ? 'skipped (--quick)'
      : await interrupted(
          work,
          keys.publicKey,
          httpManifest,
          server,
          digest.sizeBytes,
          dropCaches,
          (resumeRateMbps * 1e6) / 8,
        );
    say(`resume: ${JSON.stringify(resume)}`);
    const med = (k: keyof typeof times) => round(median(times[k]));
    return {
      sizeMb,
      runs,
      chunkMb: chunkBytes / 1024 / 1024,
      installerNodeArgs: (await unitRuntime()).nodeArgs.join(' '),
      pageCacheDropped: dropCaches.ok ? true : dropCaches.error,
      ddMsMedian: med('dd'),
      readSlotMsMedian: med('readSlot'),
      // dd + one sequential read of the slot, per run, against dd: what a read-back of the medium costs.
      floorVsDd: round(median(times.dd.map((ms, i) => (ms + times.readSlot[i]!) / ms)), 2),
      localInstallMsMedian: med('local'),
      localVsDd: round(median(times.local) / median(times.dd), 2),
      // Each run's install against the dd just before it: steadier on a machine whose disk speed drifts.
      localVsDdPerRunMedian: round(median(times.local.map((ms, i) => ms / times.dd[i]!)), 2),
      // Each run's install against that run's floor (dd + one read of the slot): what is ours alone.
      localVsFloorPerRunMedian: round(
        median(times.local.map((ms, i) => ms / (times.dd[i]! + times.readSlot[i]!))),
        2,
      ),
      localPageCacheMsMedian: med('localPageCache'),
      localPageCacheVsDd: round(median(times.localPageCache) / median(times.dd), 2),
      // Each run's two read-backs against each other: what reading the medium adds.
      mediumVsPageCachePerRunMedian: round(
        median(times.local.map((ms, i) => ms / times.localPageCache[i]!)),
        2,
      ),
      localIoUringMsMedian: med('localIoUring'),
      localIoUringVsDd: round(median(times.localIoUring) / median(times.dd), 2),
      curlDdMsMedian: med('curlDd'),
      httpInstallMsMedian: med('http'),
      httpVsDd: round(median(times.http) / median(times.dd), 2),
      httpVsCurlDd: round(median(times.http) / median(times.curlDd), 2),
      peakRssMbMax: round(Math.max(...rss)),
      peakRssMbLocalMax: round(Math.max(...rssLocal)),
      peakRssMbHttpMax: round(Math.max(...rssHttp)),
      resume,
      goal: { localVsDd: 1.5, peakRssMb: 100, refetchedBytesMax: chunkBytes },
    };
  } finally {
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** `items` shifted left by `by` places, wrapping around. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

interface Device {
  readonly config: string;
  /** The same device, reading slots back through the page cache only (`download.readBack`). */
  readonly pageCacheConfig: string;
  readonly slotB: string;
  readonly stateDir: string;
  reset(): Promise<void>;
}

/** A device dir: slot files, a redundant U-Boot env driven through fw_setenv, booted from A. */
async function makeDevice(
  work: string,
  publicKey: Uint8Array,
  options: { slotA?: string; adaptive?: boolean } = {},
): Promise<Device> {
  const dir = path.join(work, 'device');
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'emu'), { recursive: true });
  const slotB = path.join(dir, 'rootfs-b.img');
  const config = path.join(dir, 'agent.yaml');
  const pageCacheConfig = path.join(dir, 'agent-page-cache.yaml');
  await writeFile(path.join(dir, 'fleet.pub.pem'), publicKeyToPem(publicKey));
  if (options.slotA) await copyFile(options.slotA, path.join(dir, 'rootfs-a.img'));
  else await writeFile(path.join(dir, 'rootfs-a.img'), 'factory');
  await writeFile(path.join(dir, 'emu/cmdline'), 'rauc.slot=A\n');
  await writeFile(path.join(dir, 'emu/boot_id'), 'bench\n');
  for (const [file, readBack] of [
    [config, 'medium'],
    [pageCacheConfig, 'page-cache'],
  ] as const) {
    await writeFile(
      file,
      JSON.stringify({
        stateDir: 'state',
        ota: {
          trust: { keys: ['fleet.pub.pem'] },
          rebootCommand: ['true'],
          bootInfo: { cmdline: 'emu/cmdline', bootId: 'emu/boot_id' },
          health: { loopsRunning: false },
          download: { adaptive: options.adaptive ?? false, readBack },
          components: {
            rootfs: {
              slots: { kind: 'image', A: 'rootfs-a.img', B: 'rootfs-b.img' },
              boot: { backend: 'uboot', fwEnvConfig: 'fw_env.config', tool: 'fw' },
            },
          },
        },
      }),
    );
  }
  const reset = async () => {
    await rm(slotB, { force: true });
    await rm(path.join(dir, 'state'), { recursive: true, force: true });
    await writeRedundantUbootEnv(
      path.join(dir, 'uboot.env'),
      path.join(dir, 'fw_env.config'),
      FACTORY_BOOT_VARS,
    );
  };
  await reset();
  return { config, pageCacheConfig, slotB, stateDir: path.join(dir, 'state'), reset };
}

interface ChildResult {
  installMs: number;
  peakRssMb: number;
  phase?: string;
}

/**
 * Runs the install child with the unit's node options and environment (`env` overrides it): the
 * installer runs inside the agent on a device. The unit sets `UV_USE_IO_URING=0`: with libuv's io_uring
 * (the default of Node 20's libuv 1.46) buffered file reads and writes are done inline on the main
 * thread, which serialises the pipeline.
 */
async function child(
  config: string,
  args: string[],
  onSpawn?: (pid: number) => void,
  env: NodeJS.ProcessEnv = {},
): Promise<ChildResult> {
  const unit = await unitRuntime();
  const proc = spawn(process.execPath, [...unit.nodeArgs, CHILD, '--config', config, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...unit.env, ...env },
  });
  if (proc.pid) onSpawn?.(proc.pid);
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0)
    throw Object.assign(new Error(`install child exited with ${code}: ${line}`), { killed: code === null });
  const r = JSON.parse(line) as ChildResult & { result?: unknown; lastError?: string };
  if (r.phase !== 'armed') throw new Error(`install did not arm the trial: ${line}`);
  return r;
}

/** The HTTP install killed once half the image is durable (journal), then resumed by a new process. */
async function interrupted(
  work: string,
  publicKey: Uint8Array,
  manifest: string,
  server: ImageServer,
  sizeBytes: number,
  dropCaches: () => void,
  rateBytesPerS: number,
): Promise<Record<string, unknown>> {
  const device = await makeDevice(work, publicKey);
  dropCaches();
  server.sentBytes = 0;
  server.requests = 0;
  server.rateBytesPerS = rateBytesPerS;
  const journal = path.join(device.stateDir, 'ota/install.json');
  let durableAtKill = 0;
  const t0 = performance.now();
  await child(device.config, ['--manifest', manifest], (pid) => {
    const poll = setInterval(() => {
      void readFile(journal, 'utf8').then(
        (text) => {
          const offset = (JSON.parse(text) as { offsetBytes: number }).offsetBytes;
          if (offset >= sizeBytes / 2 && !durableAtKill) {
            durableAtKill = offset;
            process.kill(pid, 'SIGKILL');
            clearInterval(poll);
          }
        },
        () => undefined,
      );
    }, 5);
  }).catch((e: { killed?: boolean }) => {
    if (!e.killed) throw e;
  });
  const sentBeforeKill = server.sentBytes;
  const resumedFrom = server.lastRangeStart;
  await child(device.config, []);
  const totalMs = performance.now() - t0;
  return {
    rateMbps: round((rateBytesPerS * 8) / 1e6),
    durableAtKillBytes: durableAtKill,
    serverSentBeforeKillBytes: sentBeforeKill,
    resumedFromBytes: server.lastRangeStart,
    refetchedBytes: server.sentBytes - sizeBytes,
    requests: server.requests,
    totalMs: round(totalMs),
    ...(resumedFrom === server.lastRangeStart
      ? { warning: 'the second process did not issue a Range request' }
      : {}),
  };
}

/** Runs a command to completion and returns its wall time in ms. */
async function timed(argv: string[]): Promise<number> {
  const t0 = performance.now();
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}: ${stderr.trim()}`);
  return performance.now() - t0;
}

function canDropCaches(): (() => void) & { ok: boolean; error?: string } {
  const drop = () => {
    const r = spawnSync('sh', ['-c', 'sync && echo 3 > /proc/sys/vm/drop_caches'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr.trim() || `exit ${r.status}`);
  };
  try {
    drop();
    return Object.assign(drop, { ok: true });
  } catch (e) {
    const error = `cannot drop the page cache: ${(e as Error).message}`;
    say(error);
    return Object.assign(() => undefined, { ok: false, error });
  }
}

async function randomFile(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (let pos = 0; pos < bytes; pos += 4 << 20) {
      const piece = randomBytes(Math.min(4 << 20, bytes - pos));
      await handle.write(piece, 0, piece.length, pos);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A minimal Range-capable file server that counts the body bytes it hands to the socket, optionally
 * paced to `rateBytesPerS` (as a real network would be, so that loopback's large TCP buffers do not
 * hold megabytes the receiver never read).
 */
class ImageServer {
  url = '';
  sentBytes = 0;
  requests = 0;
  lastRangeStart = 0;
  rateBytesPerS: number | undefined;
  #server: Server | undefined;

  #file = '';
  #size = 0;

  /** Serves `file` from now on (starting the server the first time). */
  async serve(file: string): Promise<void> {
    const handle = await open(file, 'r');
    this.#size = (await handle.stat()).size;
    await handle.close();
    this.#file = file;
    if (!this.#server) await this.start(file);
  }

  async start(file: string): Promise<void> {
    if (this.#file !== file) await this.serve(file);
    if (this.#server) return;
    this.#server = createServer((req, res) => {
      this.requests++;
      const size = this.#size;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      const end = m?.[2] ? Math.min(Number(m[2]) + 1, size) : size;
      this.lastRangeStart = start;
      res.writeHead(m ? 206 : 200, {
        'content-length': String(end - start),
        ...(m ? { 'content-range': `bytes ${start}-${end - 1}/${size}` } : {}),
      });
      void this.#send(this.#file, res, start, end).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/rootfs.img`;
  }

  async #send(file: string, res: ServerResponse, start: number, size: number): Promise<void> {
    const handle = await open(file, 'r');
    const rate = this.rateBytesPerS;
    const t0 = performance.now();
    let pos = start;
    try {
      while (pos < size && !res.destroyed) {
        const piece = Buffer.allocUnsafe(Math.min(rate ? 64 << 10 : 1 << 20, size - pos));
        const { bytesRead } = await handle.read(piece, 0, piece.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const ok = res.write(piece.subarray(0, bytesRead));
        this.sentBytes += bytesRead;
        if (!ok) await drained(res);
        if (rate) {
          const aheadMs = ((pos - start) / rate) * 1000 - (performance.now() - t0);
          if (aheadMs > 1) await new Promise((r) => setTimeout(r, aheadMs));
        }
      }
      res.end();
    } finally {
      await handle.close();
    }
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
