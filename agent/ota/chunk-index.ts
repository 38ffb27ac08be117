/**
 * What the device already holds, chunk by chunk, for an adaptive update: the SHA-256 of each
 * `chunkBytes` piece of a slot (the last piece may be shorter), read sequentially with one read ahead.
 * The hashes of a committed slot do not change until it is written again, so they are cached in the
 * state directory under a key naming the slot's content (the committed payload's digest and the chunk
 * size); a cache whose key does not match is rebuilt, and a cached chunk is never trusted blindly —
 * every chunk copied from a slot is hashed again as it is read (adaptive-source.ts).
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, readIfExists, writeDurable } from '../core/durable-file.js';

export interface SlotChunks {
  /** The slot's file or block device. */
  readonly path: string;
  readonly chunkBytes: number;
  /** Hex SHA-256 of each chunk, in order. */
  readonly hashes: readonly string[];
}

const READ_BYTES = 4 << 20;

/** Hashes the first `sizeBytes` of `file` in chunks (fewer if the file is shorter). */
export async function hashChunks(
  file: string,
  chunkBytes: number,
  sizeBytes: number,
  signal?: AbortSignal,
): Promise<SlotChunks> {
  const hashes: string[] = [];
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return { path: file, chunkBytes, hashes }; // an empty or missing slot holds nothing to reuse
  }
  try {
    const bufs = [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
    let hash = createHash('sha256');
    let inChunk = 0;
    let position = 0;
    let turn = 0;
    let next = handle.read(bufs[0]!, 0, Math.min(READ_BYTES, sizeBytes), 0);
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await next;
      if (bytesRead === 0) break;
      const buf = bufs[turn]!;
      position += bytesRead;
      turn ^= 1;
      next =
        position < sizeBytes
          ? handle.read(bufs[turn]!, 0, Math.min(READ_BYTES, sizeBytes - position), position)
          : Promise.resolve({ bytesRead: 0, buffer: bufs[turn]! });
      for (let at = 0; at < bytesRead; ) {
        const take = Math.min(chunkBytes - inChunk, bytesRead - at);
        hash.update(buf.subarray(at, at + take));
        inChunk += take;
        at += take;
        if (inChunk === chunkBytes) {
          hashes.push(hash.digest('hex'));
          hash = createHash('sha256');
          inChunk = 0;
        }
      }
    }
    await next.catch(() => undefined);
    if (inChunk > 0) hashes.push(hash.digest('hex'));
    return { path: file, chunkBytes, hashes };
  } finally {
    await handle.close();
  }
}

/** The chunk hashes of a slot from the cache when `key` matches, else hashed now and cached. */
export async function cachedChunks(
  cacheDir: string,
  name: string,
  key: string | undefined,
  hash: () => Promise<SlotChunks>,
): Promise<{ chunks: SlotChunks; cached: boolean }> {
  const file = path.join(cacheDir, `${name}.json`);
  if (key !== undefined) {
    const raw = await readIfExists(file);
    if (raw) {
      try {
        const saved = JSON.parse(raw.toString('utf8')) as { key: string; chunks: SlotChunks };
        if (saved.key === key) return { chunks: saved.chunks, cached: true };
      } catch {
        // A damaged cache is rebuilt.
      }
    }
  }
  const chunks = await hash();
  if (key !== undefined) {
    await ensurePrivateDir(cacheDir);
    await writeDurable(file, JSON.stringify({ key, chunks }));
  }
  return { chunks, cached: false };
}
