/**
 * What the command-line tools need from the process, passed in so the commands never touch `process`
 * themselves: output streams, the wall clock, and the exit codes they end with.
 * Exit codes: 0 success, 1 verification or operation failed, 2 usage (bad arguments or input files),
 * 78 a key file that is not a usable Ed25519 key (EX_CONFIG, as for other configuration mistakes).
 */

import { errorMessage } from '../../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_BAD_KEY = 78;

export interface CliIo {
  /** Writes to standard output (a trailing newline is the caller's). */
  out(text: string): void;
  /** Writes to standard error. */
  err(text: string): void;
  /** Wall-clock POSIX milliseconds. */
  nowMs(): number;
}

/** CliIo plus the process's exit, for the code that wires the commands into commander. */
export interface CliProcess extends CliIo {
  /** Sets the exit code the process ends with once the command returns. */
  setExitCode(code: number): void;
  /** Ends the process now (commander's usage errors and help). */
  exit(code: number): never;
}

/** A command failure with the exit code it maps to and a message for a person (no stack trace). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function usageError(message: string): CliError {
  return new CliError(EXIT_USAGE, message);
}

/**
 * A commander action that reports a failure as `edge-agent: <reason>` on stderr and sets the exit
 * code (a `CliError`'s own, else 1) instead of throwing out of `parseAsync`.
 */
export function toolAction<A extends unknown[]>(
  proc: CliProcess,
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      proc.err(`edge-agent: ${errorMessage(e)}\n`);
      proc.setExitCode(e instanceof CliError ? e.exitCode : EXIT_FAILED);
    }
  };
}
