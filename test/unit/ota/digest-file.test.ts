/**
 * digestFile streams a payload once for the manifest's size, SHA-256 and per-chunk hashes; chunk
 * boundaries must not depend on how the file happens to be read in buffers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestFile } from '../../../agent/ota/digest-file.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-digest-');

const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

function expectedChunks(data: Buffer, chunk: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += chunk) out.push(sha(data.subarray(at, at + chunk)));
  return out;
}

describe('digestFile', () => {
  it.each([
    ['chunks that straddle the 1 MiB read buffers', 2.5 * 2 ** 20 + 3, 700_001],
    ['a size that is an exact multiple of the chunk', 3 * 2 ** 20, 2 ** 20],
    ['a chunk larger than the file', 1000, 2 ** 20],
    ['one-byte chunks', 37, 1],
  ])('hashes the whole and each chunk for %s', async (_name, size, chunk) => {
    const data = randomBytes(size);
    const file = path.join(await tempDir(), 'payload');
    await writeFile(file, data);
    const digest = await digestFile(file, chunk);
    expect(digest).toEqual({ sizeBytes: size, sha256: sha(data), chunks: expectedChunks(data, chunk) });
  });

  it('leaves chunks out when no chunk size is asked for', async () => {
    const file = path.join(await tempDir(), 'payload');
    await writeFile(file, 'abc');
    expect(await digestFile(file)).toEqual({ sizeBytes: 3, sha256: sha(Buffer.from('abc')) });
  });

  it('throws TypeError for a chunk size that is not a positive integer', async () => {
    await expect(digestFile('/nonexistent', 0)).rejects.toThrow(/chunkBytes must be a positive integer/);
  });
});
