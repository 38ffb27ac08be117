/**
 * Where a local install (`ota.install file=… manifest=…`) may read from: only below the configured
 * directories (`ota.localInstallDirs`, by default `<stateDir>/ota/inbox`). Paths are resolved with
 * `realpath` before the check, so a symbolic link inside an allowed directory cannot point out of it.
 *
 * The console and the fleet can name any path, so the answer for a path outside the directories is
 * the same whether it exists, is readable, is a directory or is not there: nothing about files
 * outside is revealed (not their existence, nor their length). Inside, errors are specific.
 */
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';

export type LocalRead =
  | { readonly ok: true; readonly path: string; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly code: 'not-allowed' | 'unreadable'; readonly reason: string };

export type LocalPath =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly code: 'not-allowed' | 'unreadable'; readonly reason: string };

/** The real path of `file` when it lies inside one of `allowedDirs`. */
export async function confineLocalPath(file: string, allowedDirs: readonly string[]): Promise<LocalPath> {
  const notAllowed: LocalPath = {
    ok: false,
    code: 'not-allowed',
    reason: `${file} is not in a directory local installs may read (ota.localInstallDirs)`,
  };
  const dirs = (await Promise.all(allowedDirs.map((d) => realpath(d).catch(() => undefined)))).filter(
    (d): d is string => d !== undefined,
  );
  let real: string;
  try {
    real = await realpath(file);
  } catch (e) {
    // Missing from a folder inside an allowed directory is worth saying; outside it is not our business.
    const parent = await realpath(path.dirname(path.resolve(file))).catch(() => undefined);
    if (parent !== undefined && dirs.some((d) => parent === d || isInside(parent, d))) {
      return { ok: false, code: 'unreadable', reason: `cannot read ${file}: ${errorMessage(e)}` };
    }
    return notAllowed;
  }
  return dirs.some((d) => isInside(real, d)) ? { ok: true, path: real } : notAllowed;
}

/** Reads a file inside `allowedDirs`, at most `maxBytes` of it (a manifest is small). */
export async function readLocalFile(
  file: string,
  allowedDirs: readonly string[],
  maxBytes: number,
): Promise<LocalRead> {
  const where = await confineLocalPath(file, allowedDirs);
  if (!where.ok) return where;
  try {
    const handle = await open(where.path, 'r');
    try {
      const st = await handle.stat();
      if (!st.isFile()) return { ok: false, code: 'unreadable', reason: `${file} is not a regular file` };
      if (st.size > maxBytes) {
        return { ok: false, code: 'unreadable', reason: `${file} is larger than ${maxBytes} bytes` };
      }
      return { ok: true, path: where.path, bytes: new Uint8Array(await handle.readFile()) };
    } finally {
      await handle.close();
    }
  } catch (e) {
    return { ok: false, code: 'unreadable', reason: `cannot read ${file}: ${errorMessage(e)}` };
  }
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
