/**
 * Measurements and boot facts: a tree digest that any change to a bundle moves (content, name, mode,
 * added or removed entry) and the directory listing order does not; the file digest equal to
 * sha256sum's; canonical JSON for the effective configuration; a boot count that rises once per boot id.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countBoot } from '../../../agent/attest/boot-count.js';
import { canonicalJson, measureFile, measureTree, measureValue } from '../../../agent/attest/measure.js';
import { toolPath } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-measure-');

async function bundle(): Promise<string> {
  const dir = path.join(await tempDir(), 'b');
  await mkdir(path.join(dir, 'lib'), { recursive: true });
  await writeFile(path.join(dir, 'main.js'), 'main');
  await writeFile(path.join(dir, 'lib/a.js'), 'a');
  return dir;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('measurements', () => {
  it('hashes a file as sha256sum does', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'slot.img'), Buffer.alloc(3 << 20, 7));
    const expected = execFileSync(toolPath('sha256sum'), [path.join(dir, 'slot.img')])
      .toString()
      .split(' ')[0];
    expect(hex(await measureFile(path.join(dir, 'slot.img')))).toBe(expected);
  });

  it('moves the tree digest for any change to content, names, modes or entries', async () => {
    const dir = await bundle();
    const seen = new Set([hex(await measureTree(dir))]);
    const step = async (change: () => Promise<void>) => {
      await change();
      const d = hex(await measureTree(dir));
      expect(seen.has(d)).toBe(false);
      seen.add(d);
    };
    await step(() => writeFile(path.join(dir, 'lib/a.js'), 'A'));
    await step(() => rename(path.join(dir, 'lib/a.js'), path.join(dir, 'lib/b.js')));
    await step(() => chmod(path.join(dir, 'main.js'), 0o755));
    await step(() => writeFile(path.join(dir, 'extra'), ''));
    await step(() => rm(path.join(dir, 'extra')).then(() => mkdir(path.join(dir, 'extra'))));
  });

  it('gives the same digest for the same tree made in another order', async () => {
    const a = path.join(await tempDir(), 't');
    const b = path.join(await tempDir(), 't');
    await mkdir(a);
    await mkdir(b);
    for (const name of ['z', 'a', 'm']) await writeFile(path.join(a, name), name);
    for (const name of ['m', 'z', 'a']) await writeFile(path.join(b, name), name);
    expect(hex(await measureTree(a))).toBe(hex(await measureTree(b)));
  });

  it('hashes a configuration by its content, not its key order or undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[1,null]},"b":1}',
    );
    expect(measureValue({ a: 1, b: 2 })).toEqual(measureValue({ b: 2, a: 1 }));
    expect(measureValue({ a: 1 })).not.toEqual(measureValue({ a: 2 }));
  });
});

describe('boot count', () => {
  it('rises once per kernel boot id and keeps the boot id as the seed', async () => {
    const dir = await tempDir();
    const bootId = path.join(dir, 'boot_id');
    const state = path.join(dir, 'boots.json');
    await writeFile(bootId, '6f1b0a6e-2f37-4a6c-9c1e-0d6a4b3c2d1e\n');
    const first = await countBoot(state, bootId);
    expect(first).toEqual({
      bootCount: 1,
      bootSeed: Uint8Array.from(Buffer.from('6f1b0a6e2f374a6c9c1e0d6a4b3c2d1e', 'hex')),
    });
    expect((await countBoot(state, bootId)).bootCount).toBe(1); // an agent restart in the same boot
    await writeFile(bootId, '00000000-0000-4000-8000-000000000001\n');
    expect((await countBoot(state, bootId)).bootCount).toBe(2);
  });

  it('counts every start as a boot where the system has no boot id', async () => {
    const dir = await tempDir();
    const state = path.join(dir, 'boots.json');
    expect((await countBoot(state, path.join(dir, 'missing'))).bootCount).toBe(1);
    expect((await countBoot(state, path.join(dir, 'missing'))).bootCount).toBe(2);
  });
});
