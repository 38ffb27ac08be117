/**
 * What the telemetry store does with a database LevelDB reports as corrupt (a damaged SD card, a torn
 * write): `ClassicLevel.repair` rebuilds the manifest from every table and log it can read and salvages
 * the readable entries of a damaged table (the unreadable files go to `<dir>/lost`, of which only the
 * last repair's are kept); when that does not help, the directory is moved aside to
 * `<dir>.corrupt-<time>` (the newest `KEEP_MOVED_ASIDE` are kept, older ones deleted, so repeated
 * damage cannot fill the disk) and a fresh database is started. Corruption costs data, never the agent.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';

/** Moved-aside databases kept for inspection. */
export const KEEP_MOVED_ASIDE = 3;

/** What happened to a corrupt database, for the `telemetry.recovered` event. */
export interface StoreRecovery {
  /** `repaired`: rebuilt in place by LevelDB's repair; `reset`: moved aside, started fresh. */
  readonly how: 'repaired' | 'reset';
  /** LevelDB's report of the corruption (or why the store counts as corrupt). */
  readonly error: string;
  /** The moved-aside directory (`reset` only). */
  readonly movedTo?: string;
}

interface ClassicLevelStatics {
  repair(location: string): Promise<void>;
}

/**
 * LevelDB's own verdict (a checksum, block or manifest it cannot read), or an I/O error reading a
 * table: tables are never written after they are made, so a table that cannot be read (cut short,
 * an unreadable sector) is damage too.
 */
export function isCorruption(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : '';
    if (code === 'LEVEL_CORRUPTION' || text.startsWith('Corruption:')) return true;
    if (code === 'LEVEL_IO_ERROR' && /\.(ldb|sst): /.test(text)) return true;
  }
  return false;
}

/** The innermost message of an error and its causes (abstract-level wraps LevelDB's own). */
export function rootMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; depth < 4 && (e as { cause?: unknown })?.cause; depth++)
    e = (e as { cause: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Tables or logs without the `CURRENT` file that names their manifest. LevelDB would open such a
 * directory as a new, empty database and delete the tables as obsolete: the backlog would vanish.
 */
export async function hasDataWithoutCurrent(dir: string): Promise<boolean> {
  const files = await readdir(dir).catch(() => [] as string[]);
  if (files.includes('CURRENT')) return false;
  return files.some((f) => /^\d+\.(ldb|sst|log)$/.test(f) || f.startsWith('MANIFEST-'));
}

/** LevelDB's repair, keeping only this repair's unreadable files in `<dir>/lost`. */
export async function repairStore(dir: string): Promise<void> {
  await rm(path.join(dir, 'lost'), { recursive: true, force: true });
  await (Level as unknown as ClassicLevelStatics).repair(dir);
}

/** Moves `dir` aside to `<dir>.corrupt-<nowMs>`, deletes all but the newest few, and recreates `dir`. */
export async function moveAside(dir: string, nowMs: number): Promise<string> {
  const movedTo = `${dir}.corrupt-${nowMs}`;
  await rename(dir, movedTo);
  await mkdir(dir, { recursive: true });
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.corrupt-`;
  const aside = (await readdir(parent))
    .filter((f) => f.startsWith(prefix) && /^\d+$/.test(f.slice(prefix.length)))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
  for (const old of aside.slice(0, Math.max(0, aside.length - KEEP_MOVED_ASIDE)))
    await rm(path.join(parent, old), { recursive: true, force: true });
  return movedTo;
}

/** Reads every entry (keys and values) once: throws LevelDB's corruption if any block is unreadable. */
export async function readEverything(db: Level<string, Uint8Array>): Promise<number> {
  let entries = 0;
  for await (const _ of db.iterator({ fillCache: false } as object)) entries++;
  return entries;
}
