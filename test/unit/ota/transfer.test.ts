import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { FilePayloadSource, type PayloadSource } from '../../../agent/ota/download.js';
import { InstallError } from '../../../agent/ota/install-errors.js';
import type { UnitDigest } from '../../../agent/ota/slots/medium-verify.js';
import { RawWriter, resumePoint } from '../../../agent/ota/slots/raw-writer.js';
import { type SlotWriter, type TransferOptions, transfer } from '../../../agent/ota/transfer.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-transfer-');
const SIZE = 100_000;
const CHUNK = 16_384;
const payload = fakeImage('payload', SIZE);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
const chunks = Array.from({ length: Math.ceil(SIZE / CHUNK) }, (_, i) =>
  sha(payload.subarray(i * CHUNK, (i + 1) * CHUNK)),
);

/** A source serving `data` in pieces, failing on its own schedule: one entry per attempt. */
function source(data: Uint8Array, attempts: ({ stopAt?: number; error?: Error } | undefined)[] = []) {
  const offsets: number[] = [];
  const s: PayloadSource = {
    origin: 'memory',
    async *read(offset) {
      offsets.push(offset);
      const plan = attempts.shift();
      for (let pos = offset; pos < data.length; pos += 5000) {
        if (plan?.stopAt !== undefined && pos >= plan.stopAt) {
          if (plan.error) throw plan.error;
          return;
        }
        yield Buffer.from(data.subarray(pos, Math.min(pos + 5000, data.length)));
      }
    },
  };
  return { s, offsets };
}

/** The options every test streams with: the payload's digests, a checkpoint per chunk, fast retries. */
function options(
  writer: SlotWriter,
  checkpoints: number[],
  over: Partial<TransferOptions> & Pick<TransferOptions, 'source'>,
): TransferOptions {
  return {
    writer,
    sizeBytes: SIZE,
    sha256: sha(payload),
    chunk: { sizeBytes: CHUNK, sha256: chunks },
    checkpointBytes: CHUNK,
    syncIntervalBytes: CHUNK,
    syncIntervalMs: 60_000,
    startOffset: 0,
    hash: createHash('sha256'),
    clock: new SystemClock(),
    signal: new AbortController().signal,
    maxAttempts: 3,
    retryBaseMs: 1,
    retryMaxMs: 5,
    onCheckpoint: async (n) => {
      checkpoints.push(n);
    },
    ...over,
  };
}

async function run(dir: string, over: Partial<TransferOptions> & Pick<TransferOptions, 'source'>) {
  const file = path.join(dir, 'slot.img');
  const writer = await RawWriter.open(file, 'image');
  const checkpoints: number[] = [];
  try {
    const result = await transfer(options(writer, checkpoints, over));
    return { result, checkpoints, file };
  } finally {
    await writer.close();
  }
}

/** A slot writer opened before the transfer starts, so that a fake clock drives everything after. */
async function withWriter(body: (writer: RawWriter) => Promise<void>): Promise<void> {
  const writer = await RawWriter.open(path.join(await newDir(), 'slot.img'), 'image');
  try {
    await body(writer);
  } finally {
    await writer.close();
  }
}

const transient = () => new InstallError('EDOWNLOAD', 'truncated', 'dropped', { transient: true });

describe('streaming a payload into a slot', () => {
  it('writes, hashes and journals chunk boundaries in order, the last one only after the digest matched', async () => {
    const { s } = source(payload);
    const { checkpoints, file } = await run(await newDir(), { source: s });
    expect(checkpoints.at(-1)).toBe(SIZE);
    expect(
      checkpoints.every((n, i) => (n % CHUNK === 0 || n === SIZE) && n > (checkpoints[i - 1] ?? 0)),
    ).toBe(true);
    expect((await readFile(file)).equals(payload)).toBe(true);
  });

  it('keeps writing while a sync is in flight, folding the sync points reached meanwhile into the next', async () => {
    const real = await RawWriter.open(path.join(await newDir(), 'slot.img'), 'image');
    const units = Math.ceil(SIZE / CHUNK);
    let writes = 0;
    let allWritten!: () => void;
    const written = new Promise<void>((resolve) => {
      allWritten = resolve;
    });
    // The first sync is held until every unit is written: with syncs in the writes' way this never ends.
    const writer = {
      write: async (data: Uint8Array, at: number) => {
        await real.write(data, at);
        if (++writes === units) allWritten();
      },
      readBack: (into: Buffer, at: number) => real.readBack(into, at),
      sync: async () => {
        await written;
        await real.sync();
      },
      finish: (n: number) => real.finish(n),
    } satisfies SlotWriter;
    try {
      const { checkpoints } = await run(await newDir(), { source: source(payload).s, writer });
      expect(checkpoints).toEqual([CHUNK, SIZE]);
    } finally {
      await real.close();
    }
  });

  it('with chunk hashes, syncs and journals only at sync points, reporting progress every unit', async () => {
    const progress: number[] = [];
    const { checkpoints } = await run(await newDir(), {
      source: source(payload).s,
      syncIntervalBytes: 3 * CHUNK,
      onProgress: (n) => progress.push(n),
    });
    // A sync point reached while the previous sync still runs is folded into the next one.
    expect(checkpoints.at(-1)).toBe(SIZE);
    expect(checkpoints.every((n) => [49_152, 98_304, 100_000].includes(n))).toBe(true);
    expect(progress).toEqual([16_384, 32_768, 65_536, 81_920]);
  });

  it('retries a dropped transfer from the exact byte reached, downloading nothing twice', async () => {
    const { s, offsets } = source(payload, [{ stopAt: 30_000 }, { stopAt: 70_000, error: transient() }]);
    const { result, file } = await run(await newDir(), { source: s });
    expect(offsets).toEqual([0, 30_000, 70_000]);
    expect(result.receivedBytes).toBe(SIZE);
    expect((await readFile(file)).equals(payload)).toBe(true);
  });

  it('gives up after maxAttempts failures in a row that made no progress, with the last reason', async () => {
    const stuck = { stopAt: 20_000, error: transient() };
    const { s } = source(payload, [stuck, stuck, stuck, stuck]);
    await expect(run(await newDir(), { source: s })).rejects.toMatchObject({
      code: 'EDOWNLOAD',
      reason: 'truncated',
      transient: false,
    });
  });

  it("waits no longer than retryMaxMs whatever a server's Retry-After asks: 23 days, an overflow, a far date", async () => {
    const clock = new FakeClock();
    const asking = (retryAfterMs: number) => ({
      stopAt: 0,
      error: new InstallError('EDOWNLOAD', 'http-503', 'busy', { transient: true, retryAfterMs }),
    });
    // What HttpPayloadSource reads from `Retry-After: 2000000`, `: 999999999` (past setTimeout's
    // 2^31 ms, which would fire at once) and an HTTP-date 23 days ahead.
    const { s, offsets } = source(payload, [
      asking(2_000_000_000),
      asking(999_999_999_000),
      asking(23 * 86_400_000),
    ]);
    const delays: number[] = [];
    await withWriter(async (writer) => {
      const done = transfer(
        options(writer, [], {
          source: s,
          clock,
          maxAttempts: 10,
          retryBaseMs: 1000,
          retryMaxMs: 60_000,
          onRetry: (_e, _n, ms) => delays.push(ms),
        }),
      );
      for (let i = 1; i <= 3; i++) {
        await clock.advance(0);
        expect(delays).toEqual(Array(i).fill(60_000));
        await clock.advance(59_999);
        expect(offsets).toHaveLength(i);
        await clock.advance(1);
        expect(offsets).toHaveLength(i + 1);
      }
      await expect(done).resolves.toMatchObject({ attempts: 4, receivedBytes: SIZE });
    });
  });

  it('ends the whole transfer at deadlineMs however steadily a server trickles its bytes', async () => {
    const clock = new FakeClock();
    // 100 bytes a second: never idle, never "no progress", and 1000 s for this payload.
    const trickle: PayloadSource = {
      origin: 'trickle',
      async *read(offset, signal) {
        for (let pos = offset; pos < SIZE; pos += 100) {
          await clock.sleep(1000, signal);
          yield Buffer.from(payload.subarray(pos, pos + 100));
        }
      },
    };
    await withWriter(async (writer) => {
      const done = transfer(options(writer, [], { source: trickle, clock, deadlineMs: 60_000 }));
      await expect(clock.settle(done, 120_000, 1000)).rejects.toMatchObject({
        code: 'EDOWNLOAD',
        reason: 'deadline',
      });
      expect(clock.monotonicMs()).toBeLessThan(65_000); // not the 1000 s the trickle would take
    });
  });

  it('stops at the first byte beyond the size, before the last chunk is written', async () => {
    const longer = Buffer.concat([payload, Buffer.alloc(10)]);
    const dir = await newDir();
    await expect(run(dir, { source: source(longer).s })).rejects.toMatchObject({ reason: 'size-exceeded' });
    expect((await readFile(path.join(dir, 'slot.img'))).length).toBe(98_304);
  });

  it('refuses a corrupt chunk before writing it', async () => {
    const corrupt = Buffer.from(payload);
    corrupt[40_000]! ^= 1;
    const dir = await newDir();
    await expect(run(dir, { source: source(corrupt).s })).rejects.toMatchObject({
      reason: 'chunk-digest-mismatch',
    });
    expect((await readFile(path.join(dir, 'slot.img'))).length).toBe(32_768);
  });

  it('refuses a wrong whole digest without per-chunk hashes, never completing the image', async () => {
    const dir = await newDir();
    await expect(
      run(dir, { source: source(payload).s, chunk: undefined, sha256: new Uint8Array(32) }),
    ).rejects.toMatchObject({ reason: 'digest-mismatch' });
    expect((await readFile(path.join(dir, 'slot.img'))).length).toBe(98_304);
  });

  it('resumes without chunk hashes from the journaled offset, rebuilding the running hash', async () => {
    const dir = await newDir();
    const file = path.join(dir, 'slot.img');
    await writeFile(file, payload.subarray(0, 60_000));
    const resume = await resumePoint(file, 49_152, SIZE, undefined, CHUNK);
    expect(resume.offsetBytes).toBe(49_152);
    expect(resume.unitCrc32).toEqual(
      [0, 1, 2].map((i) => crc32(payload.subarray(i * CHUNK, (i + 1) * CHUNK))),
    );
    const { s, offsets } = source(payload);
    await run(dir, { source: s, chunk: undefined, startOffset: 49_152, hash: resume.hash });
    expect(offsets).toEqual([49_152]);
    expect((await readFile(file)).equals(payload)).toBe(true);
  });

  it('takes the CRC of each unit on resuming without chunk hashes, units larger than its 4 MiB reads included', async () => {
    const file = path.join(await newDir(), 'slot.img');
    const unit = 6 << 20;
    const bytes = fakeImage('large', 2 * unit + 1000);
    await writeFile(file, bytes);
    const resume = await resumePoint(file, 2 * unit + 1000, 3 * unit, undefined, unit);
    expect(resume.offsetBytes).toBe(2 * unit);
    expect(resume.unitCrc32).toEqual([crc32(bytes.subarray(0, unit)), crc32(bytes.subarray(unit, 2 * unit))]);
  });

  it('resumes with chunk hashes after the last chunk that verifies, even beyond the journal', async () => {
    const dir = await newDir();
    const file = path.join(dir, 'slot.img');
    // Four chunks and a bit reached the slot; the journal had recorded only two.
    await writeFile(file, payload.subarray(0, 4 * CHUNK + 100));
    const resume = await resumePoint(file, 2 * CHUNK, SIZE, { sizeBytes: CHUNK, sha256: chunks }, CHUNK);
    expect(resume.offsetBytes).toBe(4 * CHUNK);
    const { s, offsets } = source(payload);
    await run(dir, { source: s, startOffset: resume.offsetBytes });
    expect(offsets).toEqual([4 * CHUNK]);
    expect((await readFile(file)).equals(payload)).toBe(true);
  });

  it('resumes before the first chunk a power cut garbled, and from zero without a slot', async () => {
    const dir = await newDir();
    const file = path.join(dir, 'slot.img');
    const damaged = Buffer.from(payload.subarray(0, 49_152));
    damaged[20_000] = damaged[20_000]! ^ 0xff;
    await writeFile(file, damaged);
    const chunked = { sizeBytes: CHUNK, sha256: chunks };
    expect((await resumePoint(file, 49_152, SIZE, chunked, CHUNK)).offsetBytes).toBe(16_384);
    expect((await resumePoint(path.join(dir, 'missing'), 49_152, SIZE, chunked, CHUNK)).offsetBytes).toBe(0);
  });

  it('finds a complete payload complete and fetches nothing', async () => {
    const dir = await newDir();
    const file = path.join(dir, 'slot.img');
    await writeFile(file, payload);
    const resume = await resumePoint(file, 0, SIZE, { sizeBytes: CHUNK, sha256: chunks }, CHUNK);
    expect(resume.offsetBytes).toBe(SIZE);
    const { s } = source(payload);
    const { result } = await run(dir, { source: s, startOffset: SIZE });
    expect(result.receivedBytes).toBe(0);
  });

  it('reads a local file straight into its buffers, refusing one longer or shorter than the manifest', async () => {
    const dir = await newDir();
    const file = path.join(dir, 'payload.img');
    await writeFile(file, payload);
    const source = new FilePayloadSource(file);
    const { result, file: slot } = await run(dir, { source });
    await source.close();
    expect(result.receivedBytes).toBe(SIZE);
    expect((await readFile(slot)).equals(payload)).toBe(true);

    await writeFile(file, Buffer.concat([payload, Buffer.from('!')]));
    const longer = new FilePayloadSource(file);
    await expect(run(await newDir(), { source: longer })).rejects.toMatchObject({ reason: 'size-exceeded' });
    await longer.close();
    await writeFile(file, payload.subarray(0, SIZE - 1));
    const shorter = new FilePayloadSource(file);
    await expect(run(await newDir(), { source: shorter })).rejects.toMatchObject({ reason: 'truncated' });
    await shorter.close();
  });

  it('refuses a slot that does not read back what was written', async () => {
    const lying = {
      write: async () => undefined,
      sync: async () => undefined,
      readBack: async (into: Buffer) => {
        into.fill(0);
        return into.length;
      },
      finish: async () => undefined,
    } satisfies SlotWriter;
    const { s } = source(payload);
    const checkpoints: number[] = [];
    await expect(
      transfer(options(lying, checkpoints, { source: s, maxAttempts: 1, retryMaxMs: 1 })),
    ).rejects.toMatchObject({ reason: 'readback-mismatch' });
    expect(checkpoints).toEqual([]);
  });

  it.each([
    ['with chunk hashes', {}],
    ['without chunk hashes', { chunk: undefined }],
  ] as const)(
    'with a medium read-back %s, reads each synced range back once, in order and after its sync, not through the page cache',
    async (_, hashes) => {
      const file = path.join(await newDir(), 'slot.img');
      const real = await RawWriter.open(file, 'image');
      let synced = 0;
      const writer = {
        write: (data: Uint8Array, at: number) => real.write(data, at),
        readBack: async (): Promise<number> => {
          throw new Error('the page cache was read back although the medium is');
        },
        sync: async () => {
          await real.sync();
          synced = writes;
        },
        finish: (n: number) => real.finish(n),
      } satisfies SlotWriter;
      let writes = 0;
      const counting = {
        ...writer,
        write: async (d: Uint8Array, at: number) => {
          await writer.write(d, at);
          writes = Math.max(writes, at + d.length);
        },
      };
      const ranges: [number, number][] = [];
      const mediumReadBack = {
        verify: async (from: number, to: number, expected: readonly UnitDigest[]) => {
          expect(synced, 'a range is read back only once it is synced').toBeGreaterThanOrEqual(to);
          const back = await readFile(file);
          const units = [];
          for (let at = from; at < to; at += CHUNK) {
            const unit = back.subarray(at, Math.min(at + CHUNK, to));
            // `{ chunk: undefined }`: no chunk hashes, so the CRC-32 taken once the payload matched.
            units.push('chunk' in hashes ? crc32(unit) : sha(unit));
          }
          expect(expected.map((d) => (typeof d === 'number' ? d : Buffer.from(d)))).toEqual(units);
          ranges.push([from, to]);
        },
        close: async () => undefined,
      };
      try {
        await run(await newDir(), {
          source: source(payload).s,
          writer: counting,
          mediumReadBack,
          syncIntervalBytes: 2 * CHUNK,
          ...hashes,
        });
      } finally {
        await real.close();
      }
      expect(ranges[0]?.[0]).toBe(0);
      expect(ranges.at(-1)?.[1]).toBe(SIZE);
      expect(ranges.every(([from], i) => i === 0 || from === ranges[i - 1]![1])).toBe(true);
    },
  );

  /**
   * Transfers `source` into a real slot file with a medium read-back that records each range asked
   * for and how far the writes had come by then.
   */
  async function recordReadBacks(
    source: PayloadSource,
    resumed: { slot: Uint8Array; over: Partial<TransferOptions> } | undefined = undefined,
  ) {
    const ranges: { from: number; to: number; writtenTo: number }[] = [];
    const digests: UnitDigest[] = [];
    let writtenTo = 0;
    const file = path.join(await newDir(), 'slot.img');
    if (resumed) await writeFile(file, resumed.slot);
    const real = await RawWriter.open(file, 'image');
    const writer = {
      write: async (d: Uint8Array, at: number) => {
        await real.write(d, at);
        writtenTo = Math.max(writtenTo, at + d.length);
      },
      readBack: (into: Buffer, at: number) => real.readBack(into, at),
      sync: () => real.sync(),
      finish: (n: number) => real.finish(n),
    } satisfies SlotWriter;
    const mediumReadBack = {
      verify: async (from: number, to: number, expected: readonly UnitDigest[]) => {
        ranges.push({ from, to, writtenTo });
        digests.push(...expected);
      },
      close: async () => undefined,
    };
    const checkpoints: number[] = [];
    try {
      await transfer(
        options(writer, checkpoints, {
          source,
          mediumReadBack,
          syncIntervalBytes: 2 * CHUNK,
          ...resumed?.over,
        }),
      );
    } finally {
      await real.close();
    }
    return { ranges, checkpoints, digests };
  }

  /** The ranges read back cover the slot from its first byte to its last, in order, each once. */
  function expectWholeSlotInOrder(ranges: readonly { from: number; to: number }[]) {
    expect(ranges[0]!.from).toBe(0);
    expect(ranges.at(-1)!.to).toBe(SIZE);
    expect(ranges.every((r, i) => i === 0 || r.from === ranges[i - 1]!.to)).toBe(true);
  }

  it('reads a local file back from the medium once, after its last write', async () => {
    const image = path.join(await newDir(), 'image.bin');
    await writeFile(image, payload);
    const source = new FilePayloadSource(image);
    try {
      const { ranges, checkpoints } = await recordReadBacks(source);
      expect(checkpoints.length).toBeGreaterThan(1);
      expect(ranges).toEqual([{ from: 0, to: SIZE, writtenTo: SIZE }]);
    } finally {
      await source.close();
    }
  });

  it('reads a download back from the medium while the writer waits for the network', async () => {
    const { ranges } = await recordReadBacks({
      origin: 'network',
      async *read(offset) {
        for (let pos = offset; pos < SIZE; pos += CHUNK) {
          if (pos > offset) await new Promise((resolve) => setTimeout(resolve, 40));
          yield Buffer.from(payload.subarray(pos, Math.min(pos + CHUNK, SIZE)));
        }
      },
    });
    expect(ranges.length).toBeGreaterThan(1);
    expect(ranges[0]!.writtenTo, 'the first range is read back before the last write').toBeLessThan(SIZE);
    expectWholeSlotInOrder(ranges);
  });

  it('reads back the whole slot after a resume with chunk hashes, the chunks of the earlier run included', async () => {
    const { ranges } = await recordReadBacks(source(payload).s, {
      slot: payload.subarray(0, 4 * CHUNK),
      over: { startOffset: 4 * CHUNK },
    });
    expectWholeSlotInOrder(ranges);
  });

  it('reads back the whole slot after a resume without chunk hashes, against the CRCs taken on resuming', async () => {
    const crcs = Array.from({ length: Math.ceil(SIZE / CHUNK) }, (_, i) =>
      crc32(payload.subarray(i * CHUNK, (i + 1) * CHUNK)),
    );
    const { ranges, digests } = await recordReadBacks(source(payload).s, {
      slot: payload.subarray(0, 3 * CHUNK),
      over: {
        chunk: undefined,
        startOffset: 3 * CHUNK,
        hash: createHash('sha256').update(payload.subarray(0, 3 * CHUNK)),
        resumedCrc32: crcs.slice(0, 3),
      },
    });
    expectWholeSlotInOrder(ranges);
    expect(digests).toEqual(crcs);
  });

  it('fails with readback-mismatch when a range does not read back from the medium', async () => {
    const mediumReadBack = {
      verify: async (from: number) => {
        if (from > 0) throw new InstallError('EPAYLOAD', 'readback-mismatch', 'chunk 2 does not read back');
      },
      close: async () => undefined,
    };
    await expect(
      run(await newDir(), { source: source(payload).s, mediumReadBack, syncIntervalBytes: 2 * CHUNK }),
    ).rejects.toMatchObject({ reason: 'readback-mismatch' });
  });
});
