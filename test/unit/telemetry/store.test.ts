/**
 * What the telemetry store does with the two open failures that are not corruption: a database another
 * opener holds is a LockedError naming its LOCK file, and a directory this process may not write is
 * that access error — neither is "repaired" or moved aside, so the backlog stays where it is.
 */
import { chmod, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockedError } from '../../../agent/core/errors.js';
import { openTelemetryStore } from '../../../agent/telemetry/store.js';
import { tempDirs } from '../../support/temp-dir.js';

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

  it.skipIf(process.getuid?.() === 0)(
    'throws the access error for a directory it may not write, and moves nothing aside',
    async () => {
      const parent = await tempDir();
      const dir = path.join(parent, 'telemetry');
      const store = await openTelemetryStore(dir);
      await store.meta.put('kept', 1);
      await store.close();
      await chmod(dir, 0o555);
      try {
        await expect(openTelemetryStore(dir)).rejects.toMatchObject({ code: 'EACCES', path: dir });
        expect(await readdir(parent)).toEqual(['telemetry']);
      } finally {
        await chmod(dir, 0o755);
      }
    },
  );
});
