/**
 * Whether LevelDB's manifest still describes the files beside it, checked before opening. A manifest
 * cut short (a torn write, a damaged card) loses its last edits silently — LevelDB reads a torn tail as
 * the end of the file — and recovers an older state whose next file number is behind the files on disk:
 * it then reuses their numbers (the log it replays overwrites a table of the backlog) and deletes the
 * tables it does not know. Any table or log numbered at or above the manifest's next file number, or a
 * manifest that does not parse to its end, means the store must be repaired before it is opened.
 *
 * The manifest is a LevelDB log (32 KiB blocks of records with a 7-byte header: crc32c, length, type)
 * of VersionEdits (varint-tagged fields); only the next-file-number field matters here.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const BLOCK = 32 * 1024;
const HEADER = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

/** Why the manifest does not match the files, or undefined when it does (or there is none to check). */
export async function manifestProblem(dir: string): Promise<string | undefined> {
  const current = await readFile(path.join(dir, 'CURRENT'), 'utf8').catch(() => undefined);
  // No CURRENT, or one LevelDB itself refuses: handled before or by the open.
  if (current === undefined || !/^MANIFEST-\d+\n$/.test(current)) return undefined;
  const name = current.trim();
  const bytes = await readFile(path.join(dir, name)).catch(() => undefined);
  if (!bytes) return undefined;
  const nextFile = nextFileNumber(bytes);
  if (typeof nextFile === 'string') return `${name}: ${nextFile}`;
  const ahead = (await readdir(dir)).filter((f) => {
    const m = /^(\d+)\.(ldb|sst|log)$/.exec(f);
    return m && Number(m[1]) >= nextFile;
  });
  if (ahead.length === 0) return undefined;
  return `${name} is behind the files (next file ${nextFile}; ${ahead.join(', ')} on disk)`;
}

/** The last next-file-number a manifest records, or what is wrong with it. */
export function nextFileNumber(bytes: Uint8Array): number | string {
  let next: number | undefined;
  let pending: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const left = BLOCK - (at % BLOCK);
    if (left < HEADER) {
      at += left; // the block's zero trailer
      continue;
    }
    if (at + HEADER > bytes.length) return `torn record header at ${at}`;
    const length = (bytes[at + 4] as number) | ((bytes[at + 5] as number) << 8);
    const type = bytes[at + 6] as number;
    const end = at + HEADER + length;
    if (end > bytes.length || length > left - HEADER) return `torn record at ${at}`;
    const fragment = bytes.subarray(at + HEADER, end);
    at = end;
    if (type === FULL || type === FIRST) pending = [fragment];
    else if (type === MIDDLE || type === LAST) pending.push(fragment);
    else return `record type ${type} at ${at}`;
    if (type !== FULL && type !== LAST) continue;
    const edit = editNextFile(Buffer.concat(pending));
    pending = [];
    if (typeof edit === 'string') return edit;
    if (edit !== undefined) next = edit;
  }
  if (pending.length > 0) return 'torn last record';
  return next ?? 'no next file number';
}

/** A VersionEdit's next file number (tag 3), undefined when it has none, or why it does not parse. */
function editNextFile(edit: Uint8Array): number | undefined | string {
  let at = 0;
  let next: number | undefined;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const byte = edit[at++];
      if (byte === undefined) throw new RangeError('varint past the end');
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError('varint too long');
  };
  const slice = () => {
    const length = varint(); // before `at` is read: varint() moves it
    at += length;
    if (at > edit.length) throw new RangeError('slice past the end');
  };
  const fields: Record<number, () => void> = {
    1: slice, // comparator
    2: varint, // log number
    3: () => {
      next = varint();
    },
    4: varint, // last sequence
    5: () => {
      varint(); // compact pointer: level, key
      slice();
    },
    6: () => {
      varint(); // deleted file: level, number
      varint();
    },
    7: () => {
      for (let i = 0; i < 3; i++) varint(); // new file: level, number, size, smallest, largest
      slice();
      slice();
    },
    9: varint, // previous log number
  };
  try {
    while (at < edit.length) {
      const field = fields[varint()];
      if (!field) return `unknown field at ${at}`;
      field();
    }
  } catch (error) {
    return (error as Error).message;
  }
  return next;
}
