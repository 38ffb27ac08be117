/**
 * What the telemetry store does with the two open failures that are not corruption: a database another
 * opener holds is a LockedError naming its LOCK file, and a directory this process may not write is
 * that access error — neither is "repaired" or moved aside, so the backlog stays where it is. A
 * database that must be reset is moved aside, and repeated resets keep only the newest few.
 */
import { execFile } from 'node:child_process';
import { chmod, readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LockedError } from '../../../agent/core/errors.js';
import { openTelemetryStore } from '../../../agent/telemetry/store.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { tempDirs } from '../../support/temp-dir.js';

const NOBODY = 65534;

const tempDir = tempDirs('edge-store-');

describe('openTelemetryStore', () => {
  it('refuses a database that is already open with a LockedError naming its LOCK file', async () => {
    const dir = path.join(await tempDir(), 'telemetry');
    const first = await openTelemetryStore(dir);
    try {
      const error = await openTelemetryStore(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockedError);
      expect(error).toMatchObject({ code: 'ELOCKED', file: path.join(dir, 'LOCK') });
      expect((error as LockedError).cause).toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
    } finally {
      await first.close();
    }
    expect(await readdir(path.dirname(dir))).toEqual(['telemetry']);
  });

  it('moves a database it must reset aside and keeps only the newest three moved aside', async () => {
    const parent = await tempDir();
    const dir = path.join(parent, 'telemetry');
    for (let at = 1; at <= 5; at++) {
      const store = await openTelemetryStore(
        dir,
        { recover: { how: 'reset', error: 'Corruption: test' } },
        () => at,
      );
      expect(store.recovered).toEqual({
        how: 'reset',
        error: 'Corruption: test',
        movedTo: `${dir}.corrupt-${at}`,
      });
      expect(await store.meta.get('written')).toBeUndefined();
      await store.meta.put('written', at);
      await store.close();
    }
    expect((await readdir(parent)).sort()).toEqual([
      'telemetry',
      'telemetry.corrupt-3',
      'telemetry.corrupt-4',
      'telemetry.corrupt-5',
    ]);
  });

  it('throws the access error for a directory it may not write, and moves nothing aside', async () => {
    const parent = await tempDir();
    const dir = path.join(parent, 'telemetry');
    const store = await openTelemetryStore(dir);
    await store.meta.put('kept', 1);
    await store.close();
    await chmod(dir, 0o555);
    try {
      await expect(openUnprivileged(parent, dir)).resolves.toMatchObject({ code: 'EACCES', path: dir });
      expect(await readdir(parent)).toEqual(['telemetry']);
    } finally {
      await chmod(dir, 0o755);
    }
  });
});

/**
 * Opens the store as a process that permission bits apply to: this one, or — run as root, which
 * ignores them — a child running as `nobody` on the built store (dist/, checked fresh by globalSetup).
 */
async function openUnprivileged(parent: string, dir: string): Promise<unknown> {
  if (process.getuid?.() !== 0) return openTelemetryStore(dir).catch((e: unknown) => e);
  await chmod(parent, 0o755);
  const store = pathToFileURL(path.join(REPO_ROOT, 'dist/agent/telemetry/store.js')).href;
  const script = `const { openTelemetryStore } = await import(${JSON.stringify(store)});
    const e = await openTelemetryStore(${JSON.stringify(dir)}).then(() => ({}), (e) => e);
    process.stdout.write(JSON.stringify({ code: e.code, path: e.path }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
  });
  return JSON.parse(stdout) as unknown;
}
