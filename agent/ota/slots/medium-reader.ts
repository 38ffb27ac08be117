/**
 * Reads a slot from its medium, not from the page cache: the file is opened a second time with
 * O_DIRECT, so a read after fdatasync returns what the disk (or its controller) holds — the bytes a
 * reboot will find. Node.js has no posix_fadvise(DONTNEED) and its Buffers are not page-aligned, and
 * O_DIRECT wants the buffer, the file position and the length aligned to the device's logical block;
 * so reads go through one over-allocated Buffer whose aligned start is found by asking the kernel:
 * a direct read into a misaligned address fails with EINVAL and changes nothing, and a Buffer's
 * backing store never moves. Positions and lengths are aligned to 4096 (a multiple of every
 * logical block size in use).
 *
 * `open` resolves undefined where the filesystem refuses O_DIRECT (tmpfs, some FUSE and overlay
 * mounts): the caller then reads back through the page cache and says so.
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

const ALIGN = 4096;
/** Each direct read: large enough that the device streams, small enough to hash between reads. */
const READ_BYTES = 1 << 20;
/** Buffers: one being consumed, the others being read into. */
const DEPTH = 4;

export class MediumReader {
  readonly #handle: FileHandle;
  /** `DEPTH` aligned read buffers, found on the first read. */
  #buffers: Buffer[] | undefined;

  private constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  static async open(file: string): Promise<MediumReader | undefined> {
    try {
      return new MediumReader(await open(file, constants.O_RDONLY | constants.O_DIRECT));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
      throw e;
    }
  }

  /**
   * The bytes [from, to) of the file, in order, as views of at most 1 MiB valid until the next step;
   * fewer in all only at the end of the file. Up to three reads are in flight ahead of the view being
   * consumed, so the device sees a queue, not one read at a time.
   */
  async *read(from: number, to: number): AsyncGenerator<Buffer> {
    if (to <= from) return;
    const start = from - (from % ALIGN);
    const buffers = await this.#aligned(start);
    const queue: { at: number; want: number; read: Promise<{ bytesRead: number; buffer: Buffer }> }[] = [];
    let next = start;
    let slot = 0;
    const issue = () => {
      while (queue.length < DEPTH - 1 && next < to) {
        const want = Math.min(READ_BYTES, roundUp(to - next));
        queue.push({ at: next, want, read: this.#handle.read(buffers[slot]!, 0, want, next) });
        slot = (slot + 1) % DEPTH;
        next += want;
      }
    };
    try {
      issue();
      for (let head = queue.shift(); head; head = queue.shift()) {
        const { bytesRead, buffer } = await head.read;
        if (bytesRead > 0) {
          issue();
          yield buffer.subarray(Math.max(0, from - head.at), Math.min(bytesRead, to - head.at));
        }
        if (bytesRead < head.want) return; // the end of the file
      }
    } finally {
      // A consumer that stops early (a mismatch) must not close the file under a read.
      await Promise.allSettled(queue.map((q) => q.read));
    }
  }

  close(): Promise<void> {
    return this.#handle.close();
  }

  async #aligned(position: number): Promise<Buffer[]> {
    if (this.#buffers) return this.#buffers;
    const raw = Buffer.allocUnsafeSlow(DEPTH * READ_BYTES + ALIGN);
    for (let offset = 0; offset < ALIGN; offset += 16) {
      try {
        // At or past the end of the file a direct read returns 0 before checking its buffer.
        if ((await this.#handle.read(raw, offset, ALIGN, position)).bytesRead === 0) continue;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EINVAL') continue;
        throw e;
      }
      this.#buffers = Array.from({ length: DEPTH }, (_, i) =>
        raw.subarray(offset + i * READ_BYTES, offset + (i + 1) * READ_BYTES),
      );
      return this.#buffers;
    }
    throw new Error(`no O_DIRECT read at ${position} was accepted into any buffer alignment`);
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
