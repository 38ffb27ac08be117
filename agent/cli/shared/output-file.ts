/**
 * Writes a command's output file whole or not at all (temp file in the same directory, fsync, rename),
 * so a failed release step never leaves a half-written manifest or key behind.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import { CliError, EXIT_FAILED } from './cli-io.js';

export async function writeOutputFile(
  file: string,
  data: Uint8Array | string,
  options: { mode?: number; overwrite?: boolean } = {},
): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', options.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.overwrite === false) {
      // link() fails if the target exists, where rename() would replace it.
      await link(temp, file);
      await rm(temp, { force: true });
    } else {
      await rename(temp, file);
    }
  } catch (e) {
    await rm(temp, { force: true });
    throw new CliError(EXIT_FAILED, `${file}: cannot write: ${errorMessage(e)}`, { cause: e });
  }
}
