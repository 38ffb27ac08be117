/**
 * A connected pair of pseudo-terminals made by `socat -d -d pty,raw,echo=0 pty,raw,echo=0`: bytes
 * written to one end come out of the other, and killing socat makes both ends fail like an unplugged
 * USB adapter. The serial contract suite and the PMS5003 integration test run real `serialport` I/O
 * over it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether `socat` is on PATH (CI installs it; a laptop may not have it). */
export function hasSocat(): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'socat'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface PtyPair {
  /** The two ends, e.g. `['/dev/pts/3', '/dev/pts/4']`. */
  readonly paths: readonly [string, string];
  /** Kills socat (both ends hang up) and waits for it to exit. Idempotent. */
  close(): Promise<void>;
}

export async function openPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  const socat = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  try {
    const paths = await readPaths(socat, timeoutMs);
    return {
      paths,
      close: async () => {
        if (socat.exitCode === null && socat.signalCode === null) socat.kill('SIGTERM');
        await exited;
      },
    };
  } catch (error) {
    socat.kill('SIGKILL');
    await exited;
    throw error;
  }
}

function readPaths(socat: ChildProcess, timeoutMs: number): Promise<[string, string]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error(`socat gave no pty paths within ${timeoutMs} ms: ${text}`)),
      timeoutMs,
    );
    socat.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socat.stderr?.on('data', (d: Buffer) => {
      text += d.toString();
      const paths = [...text.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
      // Both paths are printed before socat enters its transfer loop; wait for that line too, so a
      // write made right away is not lost.
      if (paths.length >= 2 && /starting data transfer loop/.test(text)) {
        clearTimeout(timer);
        resolve([paths[0]!, paths[1]!]);
      }
    });
  });
}
