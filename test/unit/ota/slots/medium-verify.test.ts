/**
 * The read-back from the slot's medium (O_DIRECT): ranges read exactly whatever their alignment, a
 * short last unit, units checked against their SHA-256 (the manifest's chunk hashes) or the CRC-32
 * taken on their way in, on the calling thread and in the built worker. The test directory is on the machine's disk (ext4 here): O_DIRECT must work there,
 * and a run where it does not fails saying so rather than skipping. (A filesystem that refuses
 * O_DIRECT cannot be made here — tmpfs accepts it since Linux 6.6 — so the page-cache read-back the
 * installer falls back to is tested through transfer.test.ts, whose writers have no medium.)
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MediumReader } from '../../../../agent/ota/slots/medium-reader.js';
import {
  openMediumVerifier,
  type RangeVerifier,
  type UnitDigest,
} from '../../../../agent/ota/slots/medium-verify.js';
import { REPO_ROOT } from '../../../support/agent-process.js';
import { rejection } from '../../../support/rejection.js';
import { tempDirs } from '../../../support/temp-dir.js';

const newDir = tempDirs('ota-medium-');
const DIST_CODE_DIR = pathToFileURL(path.join(REPO_ROOT, 'dist/agent/'));
const UNIT = 256 * 1024;

const DIGESTS = {
  'SHA-256': (unit: Uint8Array): UnitDigest => createHash('sha256').update(unit).digest(),
  'CRC-32': (unit: Uint8Array): UnitDigest => crc32(unit),
};

/** The same digest with one bit changed. */
function wrong(d: UnitDigest): UnitDigest {
  if (typeof d === 'number') return d ^ 1;
  const changed = Buffer.from(d);
  changed[0]! ^= 1;
  return changed;
}

/** An image file of random bytes and the digest of each unit of it. */
async function image(sizeBytes: number, digest: (unit: Uint8Array) => UnitDigest = DIGESTS['CRC-32']) {
  const file = path.join(await newDir(), 'slot.img');
  const bytes = randomBytes(sizeBytes);
  await writeFile(file, bytes);
  const digests: UnitDigest[] = [];
  for (let at = 0; at < sizeBytes; at += UNIT) digests.push(digest(bytes.subarray(at, at + UNIT)));
  return { file, bytes, digests };
}

async function reader(file: string): Promise<MediumReader> {
  const r = await MediumReader.open(file);
  if (!r) throw new Error(`${path.dirname(file)} refuses O_DIRECT: run the tests on ext4, xfs or btrfs`);
  return r;
}

async function readAll(r: MediumReader, from: number, to: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of r.read(from, to)) pieces.push(Buffer.from(piece));
  return Buffer.concat(pieces);
}

describe('MediumReader', () => {
  it('reads any range exactly, unaligned ends and past the end of the file included', async () => {
    const { file, bytes } = await image(3 * 1024 * 1024 + 1234);
    const r = await reader(file);
    try {
      expect((await readAll(r, 0, bytes.length)).equals(bytes)).toBe(true);
      expect(
        (await readAll(r, 5000, 2 * 1024 * 1024 + 77)).equals(bytes.subarray(5000, 2 * 1024 * 1024 + 77)),
      ).toBe(true);
      // Asked beyond the end, it gives what there is.
      expect((await readAll(r, bytes.length - 100, bytes.length + 9000)).equals(bytes.subarray(-100))).toBe(
        true,
      );
      expect((await readAll(r, 10, 10)).length).toBe(0);
    } finally {
      await r.close();
    }
  });
});

describe.each([
  ['on the calling thread', undefined],
  ['in the built worker', DIST_CODE_DIR],
  ['on the calling thread when the code directory holds no built worker', pathToFileURL('/nonexistent/')],
] as const)('openMediumVerifier %s', (_, codeDir) => {
  describe.each(Object.entries(DIGESTS))("against each unit's %s", (_, digest) => {
    async function verifier(file: string, sizeBytes: number) {
      const v = await openMediumVerifier({ file, unitBytes: UNIT, sizeBytes, codeDir });
      if (!v) throw new Error(`${path.dirname(file)} refuses O_DIRECT: run the tests on ext4, xfs or btrfs`);
      return v;
    }

    it('accepts ranges whose units match, the short last unit included', async () => {
      const { file, bytes, digests } = await image(5 * UNIT + 999, digest);
      const v: RangeVerifier = await verifier(file, bytes.length);
      try {
        await v.verify(0, 2 * UNIT, digests.slice(0, 2));
        await v.verify(2 * UNIT, 5 * UNIT, digests.slice(2, 5));
        await v.verify(5 * UNIT, bytes.length, digests.slice(5));
      } finally {
        await v.close();
      }
    });

    it('names the bytes that do not read back as they were written, and a slot shorter than the range', async () => {
      const { file, bytes, digests } = await image(4 * UNIT, digest);
      const v = await verifier(file, bytes.length);
      try {
        await v.verify(0, 2 * UNIT, digests.slice(0, 2));
        const e = await rejection(v.verify(2 * UNIT, 4 * UNIT, [digests[2]!, wrong(digests[3]!)]));
        expect(e).toMatchObject({ reason: 'readback-mismatch' });
        expect(String(e)).toMatch(/bytes 786432…1048576 \(unit 3\) do not read back from the slot's medium/);
      } finally {
        await v.close();
      }
      const short = await verifier(file, 5 * UNIT);
      try {
        const e = await rejection(short.verify(3 * UNIT, 5 * UNIT, [digests[3]!, wrong(digests[3]!)]));
        expect(e).toMatchObject({ reason: 'readback-mismatch' });
        expect(String(e)).toMatch(/holds 1048576 of 1310720 bytes/);
      } finally {
        await short.close();
      }
    });
  });
});
