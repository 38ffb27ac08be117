/**
 * How a JSON log line reads for people: `12:00:01.234 INFO  [points] chamber.temp = 45.1 Cel`. One
 * format wherever a person reads the log — the terminal the agent runs on (core/log.ts, `pretty`), the
 * console's `logs` and `logs -f`, and the device emulator's own lines — so that one terminal never
 * shows two styles. Times are UTC, as in the JSON lines.
 */
import type { DestinationStream } from 'pino';

export type LogStyle = 'red' | 'yellow' | 'dim';
/** Styles a piece of text (ANSI on a terminal; the console passes its own, which knows its peer). */
export type LogStyler = (text: string, ...styles: LogStyle[]) => string;

const plain: LogStyler = (text) => text;

const SGR: Record<LogStyle, string> = { red: '31', yellow: '33', dim: '2' };

/** ECMA-48 colours, for a terminal. */
export const ansiStyler: LogStyler = (text, ...styles) =>
  styles.length === 0 || text === '' ? text : `\x1b[${styles.map((s) => SGR[s]).join(';')}m${text}\x1b[0m`;

const LEVEL_STYLE: Record<string, LogStyle> = {
  fatal: 'red',
  error: 'red',
  warn: 'yellow',
  debug: 'dim',
  trace: 'dim',
};
const HIDDEN = new Set(['level', 'time', 'msg', 'mod', 'pid', 'hostname']);
/** The fields a point's line already shows as `name = value unit — point stale`. */
const POINT_FIELDS = new Set(['point', 'value', 'unit', 'source', 'quality']);

/**
 * One JSON log line for people; a line that is not JSON is returned as it is. A point's line (`reading`,
 * or `point stale` and the like) reads `chamber.temp = 21.03 Cel`, with ` — point stale` after it
 * when it is not a plain reading; other records show their fields as `key=value`.
 */
export function formatLogLine(line: string, styler: LogStyler = plain): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (record === null || typeof record !== 'object') return line;
  const level = String(record.level ?? 'info');
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const mod = record.mod ? `[${String(record.mod)}] ` : '';
  const msg = String(record.msg ?? '');
  const isPoint = (msg === 'reading' || msg.startsWith('point ')) && typeof record.point === 'string';
  const hidden = (k: string) => HIDDEN.has(k) || (isPoint && POINT_FIELDS.has(k));
  const fields = Object.entries(record)
    .filter(([k, v]) => !hidden(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : formatField(k, v)}`);
  const head = isPoint
    ? `${String(record.point)} = ${formatScalar(record.value)}${record.unit ? ` ${String(record.unit)}` : ''}${
        msg === 'reading' ? '' : ` — ${msg}`
      }`
    : msg;
  const label = level.toUpperCase().padEnd(5);
  const style = LEVEL_STYLE[level];
  return `${time} ${style ? styler(label, style) : label} ${mod}${[head, ...fields].join(' ')}`;
}

/** A wall-clock field (`wallMs`, `raisedAtWallMs`) as the UTC time it is; others as scalars. */
function formatField(key: string, value: unknown): string {
  if (/wallMs$/i.test(key) && typeof value === 'number' && Number.isFinite(value) && value > 0)
    return new Date(value).toISOString();
  return formatScalar(value);
}

/** Numbers to six significant digits (a reading is not 20.999937967280857 to a person). */
function formatScalar(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return String(value);
}

/**
 * A pino destination that writes each JSON line to `target` as a line for people (`formatLogLine`).
 * `flush` goes to the target, so the agent's exit still waits for the last lines.
 */
export function prettyStream(
  target: DestinationStream & { flush?: (cb: (err?: Error) => void) => void },
  options: { colour?: boolean } = {},
): DestinationStream & { flush(cb: (err?: Error) => void): void } {
  const styler = options.colour ? ansiStyler : plain;
  return {
    write(chunk: string) {
      let out = '';
      for (const line of chunk.split('\n')) if (line !== '') out += `${formatLogLine(line, styler)}\n`;
      if (out !== '') target.write(out);
    },
    flush(cb) {
      if (target.flush) target.flush(cb);
      else cb();
    },
  };
}
