/**
 * Streams a file once and returns what a manifest states about it: exact size, SHA-256 of the whole,
 * and optionally SHA-256 of each `chunkBytes`-long piece (the last may be shorter). Memory stays at one
 * read buffer whatever the file size, so the release pipeline can describe multi-gigabyte images.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileDigest {
  readonly sizeBytes: number;
  readonly sha256: Uint8Array;
  /** Present when `chunkBytes` was given; empty for an empty file. */
  readonly chunks?: Uint8Array[];
}

export async function digestFile(file: string, chunkBytes?: number): Promise<FileDigest> {
  if (chunkBytes !== undefined && (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1)) {
    throw new TypeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  const whole = createHash('sha256');
  const chunks: Uint8Array[] = [];
  let piece: Hash | undefined;
  let pieceFill = 0;
  let sizeBytes = 0;
  for await (const data of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    whole.update(data);
    sizeBytes += data.length;
    if (chunkBytes === undefined) continue;
    let offset = 0;
    while (offset < data.length) {
      piece ??= createHash('sha256');
      const take = Math.min(chunkBytes - pieceFill, data.length - offset);
      piece.update(data.subarray(offset, offset + take));
      offset += take;
      pieceFill += take;
      if (pieceFill === chunkBytes) {
        chunks.push(new Uint8Array(piece.digest()));
        piece = undefined;
        pieceFill = 0;
      }
    }
  }
  if (piece !== undefined) chunks.push(new Uint8Array(piece.digest()));
  const sha256 = new Uint8Array(whole.digest());
  return chunkBytes === undefined ? { sizeBytes, sha256 } : { sizeBytes, sha256, chunks };
}
