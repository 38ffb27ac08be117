/**
 * The last few hundred log lines, kept in memory for the console's `logs` and `logs -f`: a technician
 * on the serial port has no journalctl. It is a pino destination (the logger tees every line into
 * it, see core/log.ts), holds the JSON lines as written, and formats them for people on demand.
 */
import { formatValue, type Styler } from './render.js';
import type { Style } from './terminal.js';

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

const LEVEL_STYLE: Record<string, Style> = {
  fatal: 'red',
  error: 'red',
  warn: 'yellow',
  debug: 'dim',
  trace: 'dim',
};
const HIDDEN = new Set(['level', 'time', 'msg', 'mod', 'pid', 'hostname']);

/** `12:00:01.234 INFO  [points] chamber.temp = 45.1 Cel` — one JSON log line for people. */
export function formatLogLine(line: string, styler: Styler = (t) => t): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = String(record.level ?? 'info');
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const mod = record.mod ? `[${String(record.mod)}] ` : '';
  let text: string;
  if (record.msg === 'reading' && typeof record.point === 'string') {
    text = `${record.point} = ${formatValue(record.value)}${record.unit ? ` ${String(record.unit)}` : ''}`;
  } else {
    const fields = Object.entries(record)
      .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : formatValue(v)}`);
    text = [String(record.msg ?? ''), ...fields].join(' ');
  }
  const label = level.toUpperCase().padEnd(5);
  const style = LEVEL_STYLE[level];
  return `${time} ${style ? styler(label, style) : label} ${mod}${text}`;
}
