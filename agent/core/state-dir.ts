/**
 * The state directory (identity, telemetry, OTA journal, console audit) is made and checked before
 * anything is written there, so a directory the agent cannot use is reported as that — with its path —
 * rather than as whichever module happened to write first.
 */
import { access, constants, mkdir } from 'node:fs/promises';

/** Creates `dir` (and its parents) and checks that this process may create files in it. */
export async function prepareStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await access(dir, constants.W_OK | constants.X_OK);
}
