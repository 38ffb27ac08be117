/**
 * Writes a raw payload into an image file or block device at explicit offsets, so a resumed install
 * continues exactly where the durable part ends, and reads it back. `sync()` is fdatasync: after it
 * resolves, every byte written so far survives a power cut. An image file is created if missing and, at `finish`,
 * truncated to the payload size so that no stale tail of an older, longer image remains.
 */

import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { errorMessage } from '../../core/errors.js';
import { InstallError } from '../install-errors.js';
import type { SlotKind } from './slot-device.js';

export class RawWriter {
  readonly #handle: FileHandle;
  readonly #kind: SlotKind;
  readonly #path: string;

  private constructor(handle: FileHandle, kind: SlotKind, file: string) {
    this.#handle = handle;
    this.#kind = kind;
    this.#path = file;
  }

  static async open(file: string, kind: 'image' | 'block'): Promise<RawWriter> {
    // Never O_TRUNC: a resumed install keeps the bytes already written. Read-write: units are read back.
    const flags = constants.O_RDWR | (kind === 'image' ? constants.O_CREAT : 0);
    try {
      return new RawWriter(await open(file, flags, 0o644), kind, file);
    } catch (e) {
      throw new InstallError('ESLOT', 'slot-open', `cannot open slot ${file}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#handle.write(data, done, data.length - done, position + done);
      if (bytesWritten <= 0) throw new InstallError('ESLOT', 'slot-write', `short write to ${this.#path}`);
      done += bytesWritten;
    }
  }

  /** Reads `into.length` bytes back from `position`; fewer only at the end of the slot. */
  async readBack(into: Buffer, position: number): Promise<number> {
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await this.#handle.read(into, done, into.length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  sync(): Promise<void> {
    return this.#handle.datasync();
  }

  /** Truncates an image file to `sizeBytes` and makes everything durable. */
  async finish(sizeBytes: number): Promise<void> {
    if (this.#kind === 'image') await this.#handle.truncate(sizeBytes);
    await this.#handle.sync();
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

export interface ResumePoint {
  /** Where the write continues: a unit boundary, or the size when all of it is already there. */
  readonly offsetBytes: number;
  /** Without chunk hashes: the running SHA-256 over exactly `offsetBytes`. */
  readonly hash: Hash | undefined;
  /**
   * Without chunk hashes: the CRC-32 of each unit before `offsetBytes`, of the bytes the running hash
   * took (the read-back from the medium checks them at the end like the units written after).
   */
  readonly unitCrc32: readonly number[];
}

/**
 * Where a resumed write continues. With per-chunk hashes: after the last chunk, from the start, that
 * verifies on the slot — beyond the journaled offset too (chunks written but not yet journaled when
 * the power went), never past one a power cut garbled. Without: at the journaled offset, rebuilding the
 * running hash from the slot.
 */
export async function resumePoint(
  file: string,
  journaledBytes: number,
  sizeBytes: number,
  chunk: { sizeBytes: number; sha256: readonly Uint8Array[] } | undefined,
  unitBytes: number,
): Promise<ResumePoint> {
  const hash = chunk ? undefined : createHash('sha256');
  const unitCrc32: number[] = [];
  const limit = chunk ? sizeBytes : journaledBytes - (journaledBytes % unitBytes);
  if (limit === 0) return { offsetBytes: 0, hash, unitCrc32 };
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return { offsetBytes: 0, hash: chunk ? undefined : createHash('sha256'), unitCrc32 };
    throw e;
  }
  try {
    const step = chunk ? chunk.sizeBytes : Math.min(unitBytes, 4 << 20);
    const buf = Buffer.allocUnsafe(Math.min(step, limit));
    let pos = 0;
    let crc = 0;
    while (pos < limit) {
      // Without chunk hashes a read never crosses a unit's end, so each unit's CRC closes on one.
      const want = Math.min(buf.length, limit - pos, chunk ? limit : unitBytes - (pos % unitBytes));
      const { bytesRead } = await handle.read(buf, 0, want, pos);
      if (bytesRead < want) break; // the slot is shorter: continue from here
      const piece = buf.subarray(0, bytesRead);
      if (chunk) {
        const expected = chunk.sha256[pos / chunk.sizeBytes];
        if (!expected || !createHash('sha256').update(piece).digest().equals(expected)) break;
      } else {
        hash!.update(piece);
        crc = crc32(piece, crc);
        if ((pos + bytesRead) % unitBytes === 0) {
          unitCrc32.push(crc);
          crc = 0;
        }
      }
      pos += bytesRead;
    }
    if (!chunk) pos -= pos % unitBytes; // (whole units were read, so this is a no-op kept for clarity)
    return { offsetBytes: pos, hash, unitCrc32 };
  } finally {
    await handle.close();
  }
}

/**
 * SHA-256 of the first `bytes` of a file, read back from the slot; the next read is issued before the
 * current buffer is hashed, so reading and hashing overlap.
 */
export async function digestPrefix(file: string, bytes: number, bufferBytes = 1 << 20): Promise<Buffer> {
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    const size = Math.min(bufferBytes, Math.max(bytes, 1));
    const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    let pos = 0;
    let i = 0;
    const readAt = (at: number, b: Buffer) => handle.read(b, 0, Math.min(b.length, bytes - at), at);
    let next = bytes > 0 ? readAt(0, bufs[0]!) : undefined;
    while (next) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) break;
      const at = pos + bytesRead;
      i ^= 1;
      next = at < bytes ? readAt(at, bufs[i]!) : undefined;
      hash.update(buffer.subarray(0, bytesRead));
      pos = at;
    }
    if (pos < bytes) {
      throw new InstallError('ESLOT', 'readback-short', `${file} holds ${pos} of ${bytes} bytes`);
    }
    return hash.digest();
  } finally {
    await handle.close();
  }
}
