/**
 * Runs a program to completion and collects its output: the one seam through which the OTA layer
 * touches host tools (`fw_printenv`, `fw_setenv`, the reboot command, health scripts). Tests and
 * boards without the tools pass their own `RunCommand`.
 */
import { spawn } from 'node:child_process';

export interface CommandOutput {
  /** Exit status; null when killed by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly stdin?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type RunCommand = (argv: readonly string[], options?: RunOptions) => Promise<CommandOutput>;

/** Spawns `argv[0]` without a shell. Rejects only if the program cannot be started. */
export const runCommand: RunCommand = (argv, options = {}) =>
  new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (!file) throw new TypeError('argv must name a program');
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // a program that exits without reading stdin
    child.stdin.end(options.stdin ?? '');
  });
