/** What probePath finds of a path: the deepest existing part, whether it is a directory, writable. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probePath } from '../../../agent/core/path-probe.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-path-probe-');

describe('probePath', () => {
  it('walks up a missing path to the directory that exists', async () => {
    const dir = await tempDir();
    expect(await probePath(path.join(dir, 'a', 'b', 'c'))).toEqual({
      existing: dir,
      isDirectory: true,
      writeError: undefined,
    });
  });

  it('stops at a file in the way', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'afile'), '');
    expect(await probePath(path.join(dir, 'afile', 'state'))).toEqual({
      existing: path.join(dir, 'afile'),
      isDirectory: false,
      writeError: undefined,
    });
  });

  it('reports the access error of a directory it may not write (root may)', async () => {
    const dir = await tempDir();
    const locked = path.join(dir, 'locked');
    await mkdir(locked, { mode: 0o555 });
    expect(await probePath(path.join(locked, 'state'))).toEqual({
      existing: locked,
      isDirectory: true,
      writeError: process.getuid?.() === 0 ? undefined : 'EACCES',
    });
  });
});
