/**
 * The last few hundred log lines, kept in memory for the console's `logs` and `logs -f`: a technician
 * on the serial port has no journalctl. It is a pino destination (the logger tees every line into
 * it at `debug`, see core/log.ts, whatever the terminal's level), holds the JSON lines as written;
 * core/log-format.ts shows them to people.
 */

export type LogListener = (line: string) => void;

export class LogRing {
  readonly #capacity: number;
  readonly #lines: string[] = [];
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
      for (const listener of this.#listeners) listener(line);
    }
    return true;
  }

  /** The last `count` lines, oldest first. */
  tail(count = this.#capacity): string[] {
    return this.#lines.slice(-count);
  }

  /** Calls `listener` with each new line; returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
