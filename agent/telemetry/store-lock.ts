/**
 * Where the telemetry database lives and whether another process has it open, asked without opening
 * it (and without loading LevelDB): main.ts checks before the devices and loops start, so a second
 * agent started on the same state directory stops before it drives — and then safes — the outputs the
 * running one controls. LevelDB holds an fcntl lock on `<dir>/LOCK` while the database is open; its
 * holder is found in the kernel's lock table (core/lock-holder.ts). The open in store.ts stays the
 * authority: this check only lets the agent fail earlier and name the holder.
 */
import path from 'node:path';
import { LockedError } from '../core/errors.js';
import { findLockHolder } from '../core/lock-holder.js';
import type { TelemetryConfig } from './telemetry-schema.js';

/** The database directory: `telemetry.dir`, relative to the state directory. */
export function telemetryDirIn(stateDir: string, config: Pick<TelemetryConfig, 'dir'>): string {
  return path.resolve(stateDir, config.dir);
}

/** LevelDB's lock file in a database directory. */
export function storeLockFile(dir: string): string {
  return path.join(dir, 'LOCK');
}

/** Throws a LockedError (with the holder when known) when another process has the database open. */
export async function checkStoreLock(dir: string, procDir?: string): Promise<void> {
  const file = storeLockFile(dir);
  const lock = await findLockHolder(file, procDir);
  if (lock.held) {
    throw new LockedError(file, `${dir}: the database is open in another process`, { holder: lock.holder });
  }
}
