/**
 * The last few hundred log lines, kept in memory for the console's `logs` and `logs -f`: a technician
 * on the serial port has no journalctl. It is a pino destination (the logger tees every line into
 * it at `debug`, see core/log.ts, whatever the terminal's level), holds the JSON lines as written;
 * core/log-format.ts shows them to people. Warnings and worse are also kept in a ring of their own,
 * so a burst of debug readings cannot push the last alarm out of `logs -l warn`.
 */
import { levelIndex, matchesLogFilter } from './log-filter.js';

const NOTABLE = { minLevel: levelIndex('warn') };

export type LogListener = (line: string) => void;

export class LogRing {
  readonly #capacity: number;
  readonly #lines: string[] = [];
  readonly #notable: string[] = [];
  readonly #listeners = new Set<LogListener>();

  constructor(capacity = 500) {
    if (!(capacity >= 1)) throw new TypeError(`capacity must be >= 1, got ${capacity}`);
    this.#capacity = capacity;
  }

  /** pino's destination interface: one JSON line (with its newline) per call. */
  write(chunk: string): boolean {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      this.#lines.push(line);
      if (this.#lines.length > this.#capacity) this.#lines.shift();
      if (matchesLogFilter(line, NOTABLE)) {
        this.#notable.push(line);
        if (this.#notable.length > this.#capacity) this.#notable.shift();
      }
      for (const listener of this.#listeners) listener(line);
    }
    return true;
  }

  /** The last `count` lines, oldest first. */
  tail(count = this.#capacity): string[] {
    return this.#lines.slice(-count);
  }

  /** The last `count` warnings and worse, oldest first (kept apart from the rest). */
  notable(count = this.#capacity): string[] {
    return this.#notable.slice(-count);
  }

  /** Calls `listener` with each new line; returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
