/**
 * The telemetry database: one LevelDB (`level`, which is classic-level on Node) in the state directory
 * with three sublevels — `b` batch parts (stored-batch.ts), `q` quarantined records, `m` small metadata
 * (boot counter, last trusted wall time, per-boot clock offsets, counters). A database LevelDB itself
 * reports as corrupt is repaired (`ClassicLevel.repair`, which salvages what it can); if it still does
 * not open it is moved aside to `<dir>.corrupt-<time>` and a fresh one is started, so a damaged SD card
 * costs data, never the agent. What happened is in `recovered` for the caller to report. Two failures
 * are not corruption and are thrown instead: the database open in another process (LevelDB's lock,
 * mapped here to our `LockedError`), and a directory or `LOCK` file this process may not write (the
 * `access` error, EACCES or EROFS) — a state directory chowned without `-R` must not cost the backlog.
 */
import { access, constants, mkdir, rename } from 'node:fs/promises';
import { Level } from 'level';
import { LockedError } from '../core/errors.js';
import { storeLockFile } from './store-lock.js';

type Db = Level<string, Uint8Array>;
export type BatchesLevel = ReturnType<typeof sublevels>['batches'];
export type MetaLevel = ReturnType<typeof sublevels>['meta'];

/** What classic-level has beyond the `level` typings. */
interface ClassicLevelExtras {
  compactRange(start: string, end: string): Promise<void>;
}
interface ClassicLevelStatics {
  repair(location: string): Promise<void>;
}

export interface TelemetryStoreOptions {
  /** LevelDB's write buffer (its `.log` file grows to this before it is turned into a table). */
  readonly writeBufferBytes?: number;
}

export interface TelemetryStore {
  readonly db: Db;
  readonly batches: BatchesLevel;
  readonly quarantine: BatchesLevel;
  readonly meta: MetaLevel;
  /** `repaired`: LevelDB reported corruption and was repaired; `reset`: moved aside, started fresh. */
  readonly recovered: 'repaired' | 'reset' | undefined;
  /** Asks LevelDB to compact the batch range now (reclaims the space of deleted batches). */
  compact(): Promise<void>;
  close(): Promise<void>;
}

function sublevels(db: Db) {
  return {
    batches: db.sublevel<string, Uint8Array>('b', { valueEncoding: 'view' }),
    quarantine: db.sublevel<string, Uint8Array>('q', { valueEncoding: 'view' }),
    meta: db.sublevel<string, unknown>('m', { valueEncoding: 'json' }),
  };
}

export async function openTelemetryStore(
  dir: string,
  options: TelemetryStoreOptions = {},
  now: () => number = Date.now,
): Promise<TelemetryStore> {
  await mkdir(dir, { recursive: true });
  const open = async (): Promise<Db> => {
    const db = new Level<string, Uint8Array>(dir, {
      valueEncoding: 'view',
      ...(options.writeBufferBytes ? { writeBufferSize: options.writeBufferBytes } : {}),
    } as ConstructorParameters<typeof Level<string, Uint8Array>>[1]);
    await db.open();
    return db;
  };
  let recovered: TelemetryStore['recovered'];
  let db: Db;
  try {
    db = await open();
  } catch (error) {
    if (isLocked(error)) throw lockedError(dir, error);
    await assertWritable(dir);
    recovered = 'repaired';
    try {
      await (Level as unknown as ClassicLevelStatics).repair(dir);
      db = await open();
    } catch (again) {
      if (isLocked(again)) throw lockedError(dir, again);
      recovered = 'reset';
      await rename(dir, `${dir}.corrupt-${now()}`);
      await mkdir(dir, { recursive: true });
      db = await open();
    }
  }
  const subs = sublevels(db);
  return {
    db,
    ...subs,
    recovered,
    compact: () => (db as unknown as ClassicLevelExtras).compactRange('!b!', '!b~'),
    close: () => db.close(),
  };
}

function lockedError(dir: string, cause: unknown): LockedError {
  return new LockedError(storeLockFile(dir), `${dir}: the database is open in another process`, { cause });
}

/** Throws the `access` error (EACCES, EROFS, …) when this process may not write the database. */
async function assertWritable(dir: string): Promise<void> {
  await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  await access(storeLockFile(dir), constants.R_OK | constants.W_OK).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** Another process holds the database: not corruption, and not ours to repair. */
function isLocked(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } };
  return e?.code === 'LEVEL_LOCKED' || e?.cause?.code === 'LEVEL_LOCKED';
}
