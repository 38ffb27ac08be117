/**
 * Streams a payload into a slot, the write step of an install. Bytes are gathered into units (the
 * manifest's `chunk` when it has per-chunk hashes, else `checkpointBytes`).
 * Each unit is verified, then — while the next ones are received — written; at sync points (every
 * unit without chunk hashes, else every `syncIntervalBytes`/`syncIntervalMs`) the file is fdatasynced
 * and the offset journaled (`onCheckpoint`, in order) beside the writes rather than in their way.
 * Up to two units are in the writer at once.
 *
 * Read-back: where the slot allows O_DIRECT (`mediumReadBack`), the synced ranges are read again from
 * the medium — the bytes a reboot will find, not the page cache's copy of them — and each unit
 * compared with its chunk hash (without chunk hashes, with the CRC-32 taken of it once the payload's
 * digest matched; slots/medium-verify.ts says why not always); the transfer ends once everything is
 * read back. When: a streamed source (a download) has each synced range read back while the writer
 * waits for the network, so a slow link hides the read-back; a local file is read back after its
 * last write, because reading the medium beside writes that go as fast as the disk and the CPU allow
 * only makes them share both (ext4 even serialises direct reads with buffered writes on the inode
 * lock): 1 GiB took 2.6 s read back beside the writes, 2.2 s after them; from a loopback HTTP server,
 * 3.9 s read back while the writer waited and 4.3 s after the last write. Without O_DIRECT each unit
 * is read back through the page cache right after its write and compared byte for byte with what
 * was verified. Either way every byte of the slot is hashed on its way in and read back once.
 *
 * Integrity while streaming: with per-chunk hashes each unit is checked *before* it is written (a
 * corrupt chunk never reaches the slot); without them a running SHA-256 is kept and the last unit is
 * written only after the source ended and the whole digest matched. Either way neither a longer
 * payload (`size-exceeded`) nor a wrong one (`chunk-digest-mismatch`, `digest-mismatch`) leaves a
 * complete image in the slot, and a slot that does not read back is `readback-mismatch`.
 *
 * Resuming (see raw-writer.ts `resumePoint`): with chunk hashes, from the end of the last chunk that
 * verifies on the slot — so after a crash at most the chunk being received is downloaded twice, after
 * a power cut at most what was written since the last sync point; without, from the journaled offset.
 *
 * Sources that can fill a buffer at an offset (local files) are read straight into the unit buffers;
 * streams (HTTP) are copied. Within one run, a transient failure (dropped connection, 5xx, low speed)
 * is retried with exponential backoff from the exact byte reached; a retry that made progress resets
 * the budget, so only `maxAttempts` failures in a row give up (with the last error's reason). A
 * server's `Retry-After` is honoured up to `retryMaxMs` and no further (a hostile server would
 * otherwise park the install for weeks), and the whole run ends at `deadlineMs` (`deadline`) however
 * the server paces its bytes.
 * Memory: three unit buffers (four reading a file) and 2 MiB.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Backoff } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import type { PayloadSource } from './download.js';
import { InstallError, isTransient } from './install-errors.js';
import type { RangeVerifier } from './slots/medium-verify.js';
import type { RawWriter } from './slots/raw-writer.js';

/** Read-back is compared in pieces of this size (no second unit-sized buffer per write). */
const READ_BACK_BYTES = 1 << 20;
const HASH_SLICE_BYTES = 1 << 20;

/**
 * Hashes a unit on the main thread in slices with a turn of the event loop between them: each
 * unit in the writer is several thread-pool round trips (write, read-back pieces), and the writer's
 * completions must be dispatched while a unit is being hashed or the slot sits idle. (WebCrypto's
 * threaded digest copies every unit and, on two cores, was no faster.)
 */
async function updateSliced(hash: Hash, data: Uint8Array): Promise<Hash> {
  for (let pos = 0; pos < data.length; pos += HASH_SLICE_BYTES) {
    if (pos > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    hash.update(data.subarray(pos, pos + HASH_SLICE_BYTES));
  }
  return hash;
}

/** What a transfer needs of the slot it fills (opening and resuming it stay with the installer). */
export type SlotWriter = Pick<RawWriter, 'write' | 'readBack' | 'sync' | 'finish'>;

export interface ChunkHashes {
  readonly sizeBytes: number;
  readonly sha256: readonly Uint8Array[];
}

export interface TransferOptions {
  readonly source: PayloadSource;
  readonly writer: SlotWriter;
  readonly sizeBytes: number;
  readonly sha256: Uint8Array;
  readonly chunk?: ChunkHashes | undefined;
  /**
   * Reads each synced range back from the slot's medium (slots/medium-verify.ts); without it, every
   * unit is read back through the page cache.
   */
  readonly mediumReadBack?: RangeVerifier | undefined;
  /** Unit and checkpoint size without per-chunk hashes. */
  readonly checkpointBytes: number;
  /** Bytes already in the slot (a unit boundary, or the size). */
  readonly startOffset: number;
  /** Without chunk hashes: the running SHA-256 over exactly the first `startOffset` bytes. */
  readonly hash?: Hash | undefined;
  /**
   * Without chunk hashes: the CRC-32 of each unit before `startOffset` (raw-writer.ts `resumePoint`),
   * so that the medium read-back covers them too.
   */
  readonly resumedCrc32?: readonly number[] | undefined;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** The whole transfer (this run, retries and their waits included) fails after this long. */
  readonly deadlineMs?: number | undefined;
  /**
   * With chunk hashes, fdatasync and journal only every this many bytes or milliseconds (whichever
   * comes first): a resume re-verifies the chunks on the slot anyway, so this bounds only what a
   * power cut (not a crash) makes the device fetch again. Without chunk hashes: every unit.
   */
  readonly syncIntervalBytes: number;
  readonly syncIntervalMs: number;
  /**
   * Called after each synced unit is durable, in order (and read back, without `mediumReadBack`; with
   * it the read-back may come later).
   */
  onCheckpoint(offsetBytes: number): Promise<void>;
  /** Called after each unit that is written and read back but not a sync point, in order. */
  onProgress?(offsetBytes: number): void;
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
}

export interface TransferResult {
  /** Bytes received from the source (including any skipped). */
  readonly receivedBytes: number;
  readonly attempts: number;
}

export async function transfer(options: TransferOptions): Promise<TransferResult> {
  if (options.deadlineMs === undefined) return run(options);
  const limit = options.deadlineMs;
  const expired = new AbortController();
  const timer = options.clock.setTimeout(
    () =>
      expired.abort(
        new InstallError('EDOWNLOAD', 'deadline', `the download did not finish within ${limit} ms`),
      ),
    limit,
  );
  try {
    return await run({ ...options, signal: AbortSignal.any([options.signal, expired.signal]) });
  } finally {
    timer.cancel();
  }
}

async function run(o: TransferOptions): Promise<TransferResult> {
  const size = o.sizeBytes;
  const unit = o.chunk?.sizeBytes ?? o.checkpointBytes;
  if (!(unit > 0)) throw new TypeError(`unit must be > 0, got ${unit}`);
  if (o.startOffset % unit !== 0 && o.startOffset !== size) {
    throw new TypeError(`startOffset ${o.startOffset} is not on a ${unit}-byte boundary`);
  }
  if (!o.chunk && !o.hash) throw new TypeError('hash is required without chunk hashes');
  const remaining = size - o.startOffset;
  const bytes = Math.max(1, Math.min(unit, remaining));
  // Unit buffers in a ring: one being filled (and, reading a file, the next one read ahead), up to
  // two in the writer (written, synced, read back).
  const readInto = o.source.readInto?.bind(o.source);
  const ring = readInto ? 4 : 3;
  const buffers = Array.from({ length: ring }, (_, i) =>
    Buffer.allocUnsafe(Math.max(1, Math.min(bytes, remaining - i * bytes))),
  );
  const medium = o.mediumReadBack;
  /** With `medium` and without chunk hashes: the CRC-32 of each unit as verified, by unit index. */
  const crcs: number[] = [...(o.resumedCrc32 ?? [])];
  const scratches = medium ? [] : [Buffer.allocUnsafe(READ_BACK_BYTES), Buffer.allocUnsafe(READ_BACK_BYTES)];
  let units = 0; // units handed over
  let buf = buffers[0]!;
  let queued = o.startOffset; // bytes handed to the writer
  let fill = 0; // bytes in `buf`, which belongs at `queued`
  let receivedBytes = 0;
  let attempts = 0;
  let failures = 0;
  /** The writer's jobs, oldest first; each resolves after its unit is journaled. */
  const jobs: Promise<void>[] = [];
  const backoff = new Backoff({ baseMs: o.retryBaseMs, maxMs: o.retryMaxMs });

  /**
   * Durability runs beside the writes, not in their way: a sync point asks for an fdatasync and the
   * journal entry after it; while one runs, later sync points coalesce into the next. Writes go on
   * meanwhile (fdatasync covers at least everything written before it was called), so a slow flush
   * does not hold the unit buffers.
   */
  let syncRunning: Promise<void> | undefined;
  let syncWanted: number | undefined;
  let syncError: unknown;
  /** Units inside `writer.write` now: none while a streamed source keeps the writer waiting. */
  let writing = 0;
  let durableTo = o.startOffset;
  // A resumed transfer reads back the earlier runs' units too (every fdatasync covers them), where it
  // has their digests: the chunk hashes, or the CRCs taken on resuming.
  let verifiedTo = o.chunk || crcs.length * unit >= o.startOffset ? 0 : o.startOffset;
  let verifying = Promise.resolve();
  /** Queues the read-back of what is durable and not yet read back, after the one running. */
  const readBackDurable = () => {
    if (!medium || durableTo <= verifiedTo) return;
    const from = verifiedTo;
    const end = durableTo;
    verifiedTo = end;
    const units = (o.chunk?.sha256 ?? crcs).slice(from / unit, Math.ceil(end / unit));
    verifying = verifying.then(() => medium.verify(from, end, units));
    verifying.catch((e: unknown) => {
      syncError ??= e;
    });
  };
  const runSyncs = async () => {
    try {
      while (syncWanted !== undefined) {
        const end = syncWanted;
        syncWanted = undefined;
        await o.writer.sync();
        durableTo = end;
        if (!readInto && writing === 0) readBackDurable();
        await o.onCheckpoint(end);
      }
    } catch (e) {
      syncError ??= e;
    } finally {
      syncRunning = undefined;
    }
  };
  const requestSync = (end: number) => {
    syncWanted = end;
    syncRunning ??= runSyncs();
  };
  const throwIfSyncFailed = () => {
    if (syncError !== undefined) throw syncError;
  };

  /**
   * Writes one unit and reads it back; then, once every earlier unit is done (so units finish in
   * order), asks for a sync point or reports progress. Resolving frees the unit's buffer.
   */
  const job = async (
    data: Buffer,
    at: number,
    scratch: Buffer | undefined,
    previous: Promise<void>,
    sync: boolean,
  ) => {
    writing++;
    try {
      await o.writer.write(data, at);
    } finally {
      writing--;
    }
    for (let pos = 0; scratch && pos < data.length; pos += scratch.length) {
      const want = data.subarray(pos, pos + scratch.length);
      const back = scratch.subarray(0, want.length);
      if ((await o.writer.readBack(back, at + pos)) !== want.length || !back.equals(want)) {
        throw new InstallError(
          'EPAYLOAD',
          'readback-mismatch',
          `the slot does not read back as written at ${at + pos}`,
        );
      }
    }
    await previous;
    if (sync) requestSync(at + data.length);
    else o.onProgress?.(at + data.length);
  };
  let syncedBytes = o.startOffset;
  let syncedMs = o.clock.monotonicMs();

  /** Checks the buffered unit and hands it to the writer (waiting for a free buffer first). */
  const hand = async (last: boolean) => {
    const data = buf.subarray(0, fill);
    const at = queued;
    if (o.chunk) {
      const index = at / unit;
      const expected = o.chunk.sha256[index];
      if (!expected || !(await updateSliced(createHash('sha256'), data)).digest().equals(expected)) {
        throw new InstallError('EPAYLOAD', 'chunk-digest-mismatch', `chunk ${index} does not match its hash`);
      }
    } else {
      await updateSliced(o.hash!, data);
      if (last && !o.hash!.digest().equals(Buffer.from(o.sha256))) {
        throw new InstallError('EPAYLOAD', 'digest-mismatch', 'payload SHA-256 does not match the manifest');
      }
    }
    if (medium && !o.chunk) crcs[at / unit] = crc32(data);
    // At most two units in the writer: the next buffer to fill is the oldest job's.
    if (jobs.length === 2) await jobs.shift();
    throwIfSyncFailed();
    o.signal.throwIfAborted();
    const end = at + data.length;
    const sync =
      !o.chunk ||
      end === size ||
      end - syncedBytes >= o.syncIntervalBytes ||
      o.clock.monotonicMs() - syncedMs >= o.syncIntervalMs;
    if (sync) {
      syncedBytes = end;
      syncedMs = o.clock.monotonicMs();
    }
    const next = job(data, at, scratches[units % 2], jobs.at(-1) ?? Promise.resolve(), sync);
    next.catch(() => undefined); // observed when awaited in turn
    jobs.push(next);
    units++;
    queued += fill;
    fill = 0;
    buf = buffers[units % ring]!;
  };

  /** Takes bytes for position `queued + fill`; hands full units over (the last waits for the end). */
  const take = async (piece: Uint8Array) => {
    let p = 0;
    while (p < piece.length) {
      if (queued + fill >= size) {
        throw new InstallError('EPAYLOAD', 'size-exceeded', `payload is longer than its ${size} bytes`);
      }
      const n = Math.min(piece.length - p, buf.length - fill, size - (queued + fill));
      buf.set(piece.subarray(p, p + n), fill);
      fill += n;
      p += n;
      if (fill === buf.length && queued + fill < size) await hand(false);
    }
  };

  /** Fills `b` from `at`, starting at byte `from` of it; resolves with the bytes it holds. */
  const fillFrom = async (read: NonNullable<typeof readInto>, b: Buffer, at: number, from: number) => {
    let n = from;
    while (n < b.length) {
      const r = await read(b.subarray(n), at + n);
      if (r === 0) break;
      n += r;
    }
    return n;
  };

  /** One attempt with a source that fills buffers at offsets (a file): no copies, one unit read ahead. */
  const pull = async (read: NonNullable<typeof readInto>) => {
    let ahead: Promise<number> | undefined;
    try {
      let current = fillFrom(read, buf.subarray(0, Math.min(buf.length, size - queued)), queued, fill);
      for (;;) {
        o.signal.throwIfAborted();
        const total = await current;
        receivedBytes += total - fill;
        fill = total;
        const end = queued + fill;
        if (end >= size || fill < Math.min(buf.length, size - queued)) break; // the last unit, or a short file
        const next = buffers[(units + 1) % ring]!;
        ahead = fillFrom(read, next.subarray(0, Math.min(next.length, size - end)), end, 0);
        await hand(false);
        current = ahead;
        ahead = undefined;
      }
    } finally {
      await ahead?.catch(() => undefined);
    }
    // One byte more would be a longer payload than the manifest says.
    if (queued + fill === size && (await read(Buffer.alloc(1), size)) > 0) {
      throw new InstallError('EPAYLOAD', 'size-exceeded', `payload is longer than its ${size} bytes`);
    }
  };

  try {
    while (queued + fill < size || attempts === 0) {
      o.signal.throwIfAborted();
      attempts++;
      const before = queued + fill;
      try {
        if (readInto) await pull(readInto);
        else {
          for await (const piece of o.source.read(queued + fill, o.signal)) {
            receivedBytes += piece.length;
            await take(piece);
          }
        }
        if (queued + fill < size) {
          throw new InstallError(
            'EDOWNLOAD',
            'truncated',
            `source ended at ${queued + fill} of ${size} bytes`,
            {
              transient: true,
            },
          );
        }
      } catch (e) {
        if (o.signal.aborted) throw o.signal.reason;
        if (!isTransient(e)) throw e;
        if (queued + fill > before) {
          failures = 0;
          backoff.reset();
        }
        failures++;
        if (failures >= o.maxAttempts) {
          const reason = e instanceof InstallError ? e.reason : 'download-failed';
          throw new InstallError(
            'EDOWNLOAD',
            reason,
            `giving up after ${failures} failed attempts: ${(e as Error).message}`,
            {
              cause: e,
            },
          );
        }
        const asked = e instanceof InstallError ? (e.retryAfterMs ?? 0) : 0;
        const delayMs = Math.min(Math.max(backoff.next(), asked), o.retryMaxMs);
        o.onRetry?.(e, failures, delayMs);
        await o.clock.sleep(delayMs, o.signal);
      }
    }
    if (fill > 0) await hand(true);
    else if (!o.chunk && !o.hash!.digest().equals(Buffer.from(o.sha256))) {
      throw new InstallError('EPAYLOAD', 'digest-mismatch', 'payload SHA-256 does not match the manifest');
    }
    for (const j of jobs) await j;
    await syncRunning;
    throwIfSyncFailed();
    readBackDurable();
    await verifying.catch(() => undefined);
    throwIfSyncFailed();
    o.signal.throwIfAborted();
  } finally {
    // Never leave a write or a sync running behind the caller's back (it closes the slot next).
    await Promise.allSettled(jobs);
    await syncRunning;
    await verifying.catch(() => undefined);
  }
  await o.writer.finish(size);
  return { receivedBytes, attempts };
}
