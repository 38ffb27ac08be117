/**
 * Logging: one pino logger made in main.ts, `log.child({ mod })` per module. JSON lines (journald and
 * log shippers read them); pretty, coloured lines when stdout is a terminal.
 */

import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface CreateLoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; defaults to stdout. Tests pass a sink stream and read it back. */
  readonly destination?: DestinationStream;
  /** Pretty-print; defaults to whether stdout is a TTY. */
  readonly pretty?: boolean;
  readonly base?: Record<string, unknown>;
  /** A second destination that gets every JSON line too (the console's in-memory ring for `logs`). */
  readonly tee?: DestinationStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  const usePretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  // pino-pretty as an in-process stream, not a transport: a transport would start a worker thread,
  // which costs ~10 MB of RSS on a gateway for no benefit.
  const destination =
    options.destination ??
    (usePretty
      ? loadPretty()({
          colorize: true,
          translateTime: 'HH:MM:ss.l',
          ignore: 'pid,hostname,mod',
          singleLine: true,
          sync: true,
          messageFormat: prettyMessage,
        })
      : pino.destination({ fd: 1, sync: false }));
  return pino(opts, options.tee ? teeStream(destination, options.tee) : destination);
}

/**
 * Every line to `primary` and to `tee` (pino.multistream; the logger's level already filtered). The
 * tee receives the JSON line even when the primary is pino-pretty. `flush` goes to the primary, which
 * multistream lacks, so exitAfterFlush in main.ts still waits for stdout.
 */
function teeStream(primary: DestinationStream, tee: DestinationStream): DestinationStream {
  const streams = pino.multistream([
    { stream: primary, level: 'trace' },
    { stream: tee, level: 'trace' },
  ]);
  const flushable = primary as DestinationStream & { flush?: (cb: (err?: Error) => void) => void };
  return Object.assign(streams, {
    flush: (cb: (err?: Error) => void) => (flushable.flush ? flushable.flush(cb) : cb()),
  });
}

/** pino-pretty is loaded only for a terminal: a service writing JSON to journald never pays for it. */
function loadPretty(): typeof import('pino-pretty') {
  return createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
}

/** On a terminal a reading reads as `chamber.temp = 21.03 Cel (good)`; other records keep their fields. */
function prettyMessage(record: Record<string, unknown>, messageKey: string): string {
  const msg = String(record[messageKey] ?? '');
  const prefix = record.mod ? `[${String(record.mod)}] ` : '';
  if ((msg === 'reading' || msg.startsWith('point ')) && typeof record.point === 'string') {
    const value = typeof record.value === 'number' ? Number(record.value.toPrecision(6)) : record.value;
    const text = `${prefix}${record.point} = ${String(value)}${record.unit ? ` ${String(record.unit)}` : ''}`;
    for (const key of ['point', 'value', 'unit', 'source']) delete record[key];
    if (record.quality === 'good') delete record.quality;
    return msg === 'reading' ? text : `${text} — ${msg}`;
  }
  return prefix + msg;
}

/** A logger that drops everything, for code paths (CLI tools, tests) that need one but not its output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
