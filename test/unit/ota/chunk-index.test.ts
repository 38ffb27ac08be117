import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedChunks, hashChunks } from '../../../agent/ota/chunk-index.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-chunk-index-');

describe('chunk index', () => {
  it('hashes a slot chunk by chunk, the last one short, up to the size asked for', async () => {
    const dir = await tempDir();
    const data = fakeImage('slot', 10 * 1024 * 1024 + 5);
    await writeFile(path.join(dir, 'a.img'), data);
    const chunks = await hashChunks(path.join(dir, 'a.img'), 3 * 1024 * 1024, data.length);
    const want = [0, 1, 2, 3].map((i) =>
      createHash('sha256')
        .update(data.subarray(i * 3 * 1024 * 1024, (i + 1) * 3 * 1024 * 1024))
        .digest('hex'),
    );
    expect(chunks.hashes).toEqual(want);
    expect((await hashChunks(path.join(dir, 'a.img'), 1 << 20, 2 << 20)).hashes).toHaveLength(2);
    expect((await hashChunks(path.join(dir, 'missing.img'), 1 << 20, 2 << 20)).hashes).toEqual([]);
  });

  it('hashes a slot once per committed content: the cache answers while its key matches', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'a.img'), fakeImage('slot', 1 << 20));
    let passes = 0;
    const hash = () => {
      passes++;
      return hashChunks(path.join(dir, 'a.img'), 1 << 18, 1 << 20);
    };
    const first = await cachedChunks(path.join(dir, 'cache'), 'rootfs-A', 'sha-1/262144', hash);
    const again = await cachedChunks(path.join(dir, 'cache'), 'rootfs-A', 'sha-1/262144', hash);
    expect([first.cached, again.cached, passes]).toEqual([false, true, 1]);
    expect(again.chunks).toEqual(first.chunks);
    const other = await cachedChunks(path.join(dir, 'cache'), 'rootfs-A', 'sha-2/262144', hash);
    expect([other.cached, passes]).toEqual([false, 2]);
    const unknown = await cachedChunks(path.join(dir, 'cache'), 'rootfs-A', undefined, hash);
    expect([unknown.cached, passes]).toEqual([false, 3]);
  });
});
