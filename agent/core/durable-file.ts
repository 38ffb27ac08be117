/**
 * Small files that must survive a power cut whole: the identity key, the replay cache, the OTA journal
 * and reports, boot environments kept as files. Write a temporary file with the final mode, fsync it, then rename it into place (or, with
 * `exclusive`, hard-link it, which fails if the name exists — two processes creating an identity at the
 * same time cannot both win) and fsync the directory so the new name itself is durable.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';

export interface WriteOptions {
  /** File mode; 0o600 unless given (everything written here is the agent's own state). */
  readonly mode?: number;
  /** Fail with EEXIST instead of replacing an existing file. */
  readonly exclusive?: boolean;
}

export async function writeDurable(
  file: string,
  data: string | Uint8Array,
  options: WriteOptions = {},
): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', options.mode ?? 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) await link(tmp, file);
    else await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
  await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The file's bytes, or undefined when it does not exist. */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Creates `dir` (and parents) with `mode` for the directories it creates. */
export async function ensurePrivateDir(dir: string, mode = 0o700): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
}

/** Removes a file durably; a missing file is not an error. */
export async function unlinkDurable(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await fsyncDir(path.dirname(file));
}
