/**
 * An adaptive update's payload (RAUC's adaptive updates, casync's chunk stores): every chunk of the
 * new image whose SHA-256 the device already holds — in the running slot, or in the target slot at
 * or after the chunk being written (what is before it has been overwritten) — is read from there;
 * only the rest is fetched, each run of adjacent missing chunks as one HTTP `Range` request. A local
 * chunk is hashed again as it is read and used only if it still matches (a corrupted block is fetched
 * instead). A server that ignores `Range` is answered with the whole payload: from then on the rest
 * is streamed whole.
 *
 * To the transfer this is one more source (transfer.ts verifies each chunk, writes, reads back,
 * journals and retries from the byte reached), so resuming after a power cut works as for any other:
 * `read(offset)` plans again from `offset`, whatever each chunk's source was before.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { SlotChunks } from './chunk-index.js';
import type { HttpPayloadSource, PayloadSource } from './download.js';
import { InstallError } from './install-errors.js';

export interface AdaptiveSourceOptions {
  readonly remote: Pick<HttpPayloadSource, 'origin' | 'read' | 'readRange' | 'rangeIgnored'>;
  readonly sizeBytes: number;
  /** The manifest's chunk size and hashes. */
  readonly chunkBytes: number;
  readonly chunks: readonly Uint8Array[];
  /** What the device holds: the running slot's chunks, the target slot's. */
  readonly local: readonly SlotChunks[];
  /** The slot being written: a chunk of it is a source only at or after the chunk being read. */
  readonly targetPath: string;
}

interface Place {
  readonly path: string;
  readonly offset: number;
}

export class AdaptiveSource implements PayloadSource {
  readonly origin: string;
  /** Bytes received from the server, and read from the device's own slots (this run). */
  fetchedBytes = 0;
  reusedBytes = 0;
  readonly #o: AdaptiveSourceOptions;
  readonly #places = new Map<string, Place[]>();
  readonly #files = new Map<string, Promise<FileHandle>>();
  readonly #buffer: Buffer;

  constructor(options: AdaptiveSourceOptions) {
    this.#o = options;
    this.origin = `${options.remote.origin} (adaptive)`;
    this.#buffer = Buffer.allocUnsafe(options.chunkBytes);
    for (const slot of options.local) {
      slot.hashes.forEach((hash, i) => {
        if (slot.chunkBytes !== options.chunkBytes) return;
        const places = this.#places.get(hash) ?? [];
        places.push({ path: slot.path, offset: i * slot.chunkBytes });
        this.#places.set(hash, places);
      });
    }
  }

  /** How many of the image's chunks have a local candidate (before the reads verify them). */
  get plannedLocalChunks(): number {
    return this.#o.chunks.filter((_, i) => this.#candidates(i).length > 0).length;
  }

  async *read(offset: number, signal: AbortSignal): AsyncIterable<Buffer> {
    const { chunkBytes: C, sizeBytes: size, remote } = this.#o;
    let pos = offset;
    while (pos < size) {
      signal.throwIfAborted();
      if (remote.rangeIgnored) {
        for await (const b of remote.read(pos, signal)) {
          this.fetchedBytes += b.length;
          yield b;
        }
        return;
      }
      const i = Math.floor(pos / C);
      const chunkEnd = Math.min((i + 1) * C, size);
      const local = await this.#local(i, chunkEnd - i * C);
      if (local) {
        const piece = local.subarray(pos - i * C);
        this.reusedBytes += piece.length;
        pos = chunkEnd;
        yield piece;
        continue;
      }
      let j = i + 1;
      while (j * C < size && this.#candidates(j).length === 0) j++;
      const end = Math.min(j * C, size);
      let got = 0;
      for await (const b of remote.readRange(pos, end, signal)) {
        got += b.length;
        this.fetchedBytes += b.length;
        yield b;
      }
      if (remote.rangeIgnored) {
        // The whole rest came in that one answer (or, cut short, is asked for again as a stream).
        pos += got;
        continue;
      }
      if (pos + got < end) {
        throw new InstallError('EDOWNLOAD', 'truncated', `range ${pos}-${end - 1} ended after ${got} bytes`, {
          transient: true,
        });
      }
      pos = end;
    }
  }

  async close(): Promise<void> {
    for (const handle of this.#files.values()) await (await handle.catch(() => undefined))?.close();
    this.#files.clear();
  }

  #candidates(i: number): Place[] {
    const hash = this.#o.chunks[i];
    if (!hash) return [];
    const places = this.#places.get(Buffer.from(hash).toString('hex')) ?? [];
    const at = i * this.#o.chunkBytes;
    return places.filter((p) => p.path !== this.#o.targetPath || p.offset >= at);
  }

  /** Chunk `i` from a local place whose bytes still hash right, or undefined. */
  async #local(i: number, length: number): Promise<Buffer | undefined> {
    const want = Buffer.from(this.#o.chunks[i]!);
    for (const place of this.#candidates(i)) {
      const handle = await this.#file(place.path);
      if (!handle) continue;
      const { bytesRead } = await handle
        .read(this.#buffer, 0, length, place.offset)
        .catch(() => ({ bytesRead: 0 }));
      if (bytesRead !== length) continue;
      const data = this.#buffer.subarray(0, length);
      if (createHash('sha256').update(data).digest().equals(want)) return data;
    }
    return undefined;
  }

  async #file(file: string): Promise<FileHandle | undefined> {
    let handle = this.#files.get(file);
    if (!handle) {
      handle = open(file, 'r');
      this.#files.set(file, handle);
    }
    return handle.catch(() => undefined);
  }
}
