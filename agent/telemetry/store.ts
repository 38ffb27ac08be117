/**
 * The telemetry database: one LevelDB (`level`, which is classic-level on Node) in the state directory
 * with three sublevels — `b` batch parts (stored-batch.ts), `q` quarantined records, `m` small metadata
 * (boot counter, last trusted wall time, per-boot clock offsets, counters). A database that does not
 * open, whose tables exist without the `CURRENT` file (LevelDB would start an empty one over them), or
 * whose manifest is behind its files (manifest-check.ts: LevelDB would overwrite and delete tables) is
 * repaired and then read end to end; if that read still fails it is moved aside and a fresh one is
 * started (store-recovery.ts). The caller asks for the same with `recover` when it finds corruption
 * later (in the scan, a read, a write). What happened is in `recovered` for the caller to report. Two
 * failures are not corruption and are thrown instead: the database open in another process (LevelDB's
 * lock, mapped here to our `LockedError`), and a directory or `LOCK` file this process may not write
 * (the `access` error, EACCES or EROFS) — a state directory chowned without `-R` must not cost the
 * backlog.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { Level } from 'level';
import { LockedError } from '../core/errors.js';
import { manifestProblem } from './manifest-check.js';
import { storeLockFile } from './store-lock.js';
import {
  hasDataWithoutCurrent,
  moveAside,
  readEverything,
  repairStore,
  rootMessage,
  type StoreRecovery,
} from './store-recovery.js';

type Db = Level<string, Uint8Array>;
export type BatchesLevel = ReturnType<typeof sublevels>['batches'];
export type MetaLevel = ReturnType<typeof sublevels>['meta'];

/** What classic-level has beyond the `level` typings. */
interface ClassicLevelExtras {
  compactRange(start: string, end: string): Promise<void>;
}

export interface TelemetryStoreOptions {
  /** LevelDB's write buffer (its `.log` file grows to this before it is turned into a table). */
  readonly writeBufferBytes?: number;
  /**
   * Corruption found in this database after an earlier open (LevelDB's message): `repair` it (moved
   * aside if the repaired database still cannot be read), or `reset` it (moved aside at once).
   */
  readonly recover?: { readonly how: 'repair' | 'reset'; readonly error: string };
}

export interface TelemetryStore {
  readonly db: Db;
  readonly batches: BatchesLevel;
  readonly quarantine: BatchesLevel;
  readonly meta: MetaLevel;
  /** Set when the database was corrupt: repaired, or moved aside and started fresh. */
  readonly recovered: StoreRecovery | undefined;
  /** Asks LevelDB to compact the batch range now (reclaims the space of deleted batches). */
  compact(): Promise<void>;
  close(): Promise<void>;
}

/**
 * JSON that reads a damaged value as absent instead of throwing: LevelDB does not checksum what it
 * reads here, so a flipped bit can turn a boot counter into text that is not JSON. Every reader of
 * `meta` already treats a missing or mistyped value as never written.
 */
const tolerantJson = {
  name: 'tolerant-json',
  format: 'utf8' as const,
  encode: (value: unknown): string => JSON.stringify(value),
  decode: (text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  },
};

function sublevels(db: Db) {
  return {
    batches: db.sublevel<string, Uint8Array>('b', { valueEncoding: 'view' }),
    quarantine: db.sublevel<string, Uint8Array>('q', { valueEncoding: 'view' }),
    meta: db.sublevel<string, unknown>('m', { valueEncoding: tolerantJson }),
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
  let recovered: StoreRecovery | undefined;
  const reset = async (error: string): Promise<Db> => {
    recovered = { how: 'reset', error, movedTo: await moveAside(dir, now()) };
    return open();
  };
  const repair = async (error: string): Promise<Db> => {
    await assertWritable(dir);
    try {
      await repairStore(dir);
      const repaired = await open();
      await readEverything(repaired).catch(async (unreadable: unknown) => {
        await repaired.close();
        throw unreadable;
      });
      recovered = { how: 'repaired', error };
      return repaired;
    } catch (again) {
      if (isLocked(again)) throw lockedError(dir, again);
      return reset(`${error}; after repair: ${rootMessage(again)}`);
    }
  };
  let db: Db;
  if (options.recover?.how === 'reset') {
    await assertWritable(dir);
    db = await reset(options.recover.error);
  } else if (options.recover) db = await repair(options.recover.error);
  else if (await hasDataWithoutCurrent(dir)) db = await repair('CURRENT missing: tables without a manifest');
  else {
    const stale = await manifestProblem(dir);
    if (stale) db = await repair(stale);
    else {
      try {
        db = await open();
      } catch (error) {
        if (isLocked(error)) throw lockedError(dir, error);
        db = await repair(rootMessage(error));
      }
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
