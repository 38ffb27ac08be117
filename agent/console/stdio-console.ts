/**
 * The console on the agent's own stdin/stdout, for development (`npm start` on the simulated board).
 * On a terminal, stdin goes to raw mode so the console's line discipline does the editing, and log
 * lines are printed above the prompt (through `logSink`, the logger's destination) instead of
 * tearing through what is being typed. The sink prints lines as the logger made them — for people or
 * JSON, decided once in main.ts — before the session opens as after, so one terminal shows one format.
 * Raw mode means Ctrl-C no longer raises SIGINT: at an empty `login:` prompt it calls `onInterrupt`
 * (main.ts stops the agent); anywhere else — a name half typed, after login — it cancels the line.
 */
import type { Readable, Writable } from 'node:stream';
import type { ConsoleServer } from './console-server.js';
import type { ConsoleSession } from './session.js';

type Input = Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
type Output = Writable & { isTTY?: boolean; columns?: number; rows?: number };

export interface StdioConsoleOptions {
  readonly input: Input;
  readonly output: Output;
  /** Ctrl-C at the login prompt. */
  readonly onInterrupt?: () => void;
}

export class StdioConsole {
  readonly #options: StdioConsoleOptions;
  #session: ConsoleSession | undefined;
  #raw = false;
  readonly #onData = (chunk: Buffer) => {
    const session = this.#session;
    if (!session) return;
    // Ctrl-C alone at an empty login prompt stops the agent; with a name typed it only clears the line.
    if (chunk.length === 1 && chunk[0] === 0x03 && session.atEmptyLoginPrompt && this.#options.onInterrupt) {
      this.#options.onInterrupt();
      return;
    }
    session.input(chunk);
  };
  readonly #onEnd = () => this.#session?.hangup();

  constructor(options: StdioConsoleOptions) {
    this.#options = options;
  }

  /** A pino destination that prints each log line, as it is, above the console's prompt. */
  readonly logSink = {
    write: (chunk: string): boolean => {
      const session = this.#session;
      if (!session) return this.#options.output.write(chunk);
      for (const line of chunk.split('\n')) if (line !== '') session.printAbove(line);
      return true;
    },
  };

  start(server: ConsoleServer): void {
    const { input, output } = this.#options;
    if (input.isTTY && input.setRawMode) {
      input.setRawMode(true);
      this.#raw = true;
    }
    this.#session = server.attach(
      { name: 'stdio', send: (text) => void output.write(text), hangup: () => undefined },
      {
        terminal: { ansi: output.isTTY === true, columns: output.columns ?? 80, rows: output.rows },
        hangupOnLogout: false,
      },
    );
    input.on('data', this.#onData);
    input.on('end', this.#onEnd);
    input.resume();
  }

  stop(): void {
    const { input } = this.#options;
    input.off('data', this.#onData);
    input.off('end', this.#onEnd);
    input.pause();
    if (this.#raw) input.setRawMode?.(false);
    this.#raw = false;
    this.#session = undefined;
  }
}
