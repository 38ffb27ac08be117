/**
 * What is really wrong with a path the agent could not create or write. The error alone can mislead:
 * Node's recursive `mkdir` reports ENOENT when the kernel said EROFS or ENOSPC (nodejs/node#47098),
 * and ENOTDIR does not say which part of the path is a file. This walks up to the deepest part of the
 * path that exists and asks whether it is a directory and whether this process may write in it
 * (access(2) with W_OK: EROFS on a read-only mount, even for root; EACCES without permission).
 */
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';

export interface PathProbe {
  /** The deepest part of the path that exists (the path itself when it exists). */
  readonly existing: string;
  readonly isDirectory: boolean;
  /** The error code of access(`existing`, W_OK) (`EROFS`, `EACCES`), or undefined when writable. */
  readonly writeError: string | undefined;
}

/** Undefined when not even the root could be examined. */
export async function probePath(target: string): Promise<PathProbe | undefined> {
  let current = path.resolve(target);
  for (;;) {
    const found = await stat(current).catch(() => undefined);
    if (found) {
      const writeError = await access(current, constants.W_OK).then(
        () => undefined,
        (error: NodeJS.ErrnoException) => error.code ?? 'EACCES',
      );
      return { existing: current, isDirectory: found.isDirectory(), writeError };
    }
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}
