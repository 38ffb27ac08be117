/**
 * Logging: one pino logger made in main.ts, `log.child({ mod })` per module. JSON lines (journald and
 * log shippers read them), or lines for people (core/log-format.ts) when `pretty`: decided once, for
 * the one terminal or pipe the agent writes to, never line by line.
 *
 * A nested child names its module by the path: `log.child({ mod: 'telemetry' }).child({ mod: 'clock' })`
 * writes `"mod":"telemetry.clock"` — once. (pino appends a child's bindings to its parent's, so the
 * key would otherwise be written twice, which many JSON parsers reject or resolve differently.)
 *
 * With a `tee` (the console's log ring) the logger runs at `debug` even when the destination's level is
 * `info`: the ring keeps every raw reading for `logs -f` while the terminal or journal shows only what
 * its level lets through (pino.multistream, a level per stream).
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { stdoutDestination } from './log-destination.js';
import { prettyStream } from './log-format.js';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

type Flushable = DestinationStream & { flush?: (cb: (err?: Error) => void) => void };

export interface CreateLoggerOptions {
  /** The level of what reaches `destination`. */
  readonly level?: LogLevel;
  /** Where lines go; defaults to stdout. Tests pass a sink stream and read it back. */
  readonly destination?: DestinationStream;
  /** Lines for people instead of JSON; defaults to true only for a default stdout that is a TTY. */
  readonly pretty?: boolean;
  /** Colour the pretty lines; defaults to true only for a default stdout that is a TTY. */
  readonly colour?: boolean;
  readonly base?: Record<string, unknown>;
  /** A second destination that gets the JSON lines too (the console's in-memory ring for `logs`). */
  readonly tee?: DestinationStream;
  /** The tee's level: `debug` unless `level` is lower (`trace`). */
  readonly teeLevel?: LogLevel;
}

const LEVEL_VALUES: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** The module path of a logger, kept off pino's bindings (see the header) and written by the mixin. */
const MOD = Symbol('edge-agent.log.mod');
type ModCarrier = { [MOD]?: string };

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const toStdout = options.destination === undefined;
  const stdoutIsTTY = toStdout && process.stdout.isTTY === true;
  const usePretty = options.pretty ?? stdoutIsTTY;
  // A terminal is written synchronously (its lines interleave with the console's); a pipe or journal
  // asynchronously, flushed by main.ts before the process exits.
  const target: Flushable =
    options.destination ?? stdoutDestination({ sync: usePretty || process.stdout.isTTY === true });
  const primary: Flushable = usePretty
    ? prettyStream(target, { colour: options.colour ?? stdoutIsTTY })
    : target;
  const teeLevel = options.tee ? lower(options.teeLevel ?? 'debug', level) : undefined;
  const opts: LoggerOptions = {
    level: teeLevel ? lower(level, teeLevel) : level,
    base: options.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: (_object, _level, logger) => {
      const mod = (logger as ModCarrier)[MOD];
      return mod === undefined ? {} : { mod };
    },
  };
  const root = pino(
    opts,
    options.tee && teeLevel ? teeStream(primary, level, options.tee, teeLevel) : primary,
  );
  nestModules(root);
  return root;
}

/** The more verbose of two levels. */
function lower(a: LogLevel, b: LogLevel): LogLevel {
  return LEVEL_VALUES[a] <= LEVEL_VALUES[b] ? a : b;
}

/**
 * `child({ mod })` records the module path on the child (`parent.mod`) instead of as a binding; every
 * child inherits this `child` from the root (pino makes children with Object.create).
 */
function nestModules(root: Logger): void {
  const pinoChild = root.child;
  const child = function (this: Logger, bindings: Record<string, unknown>, opts?: object): Logger {
    const { mod, ...rest } = bindings;
    const made = pinoChild.call(this, rest, opts) as unknown as Logger;
    if (typeof mod === 'string' && mod !== '') {
      const parent = (this as ModCarrier)[MOD];
      (made as ModCarrier)[MOD] = parent === undefined ? mod : `${parent}.${mod}`;
    }
    return made;
  };
  (root as unknown as { child: typeof child }).child = child;
}

/**
 * Each line to `primary` at its level and to `tee` at its own (pino.multistream). The tee receives the
 * JSON line even when the primary prints for people. `flush` goes to the primary, which multistream
 * lacks, so exitAfterFlush in main.ts still waits for stdout.
 */
function teeStream(
  primary: Flushable,
  primaryLevel: LogLevel,
  tee: DestinationStream,
  teeLevel: LogLevel,
): DestinationStream {
  const streams = pino.multistream([
    // A silent primary is left out: multistream has no level for `silent`.
    ...(primaryLevel === 'silent' ? [] : [{ stream: primary, level: primaryLevel }]),
    { stream: tee, level: teeLevel },
  ]);
  return Object.assign(streams, {
    flush: (cb: (err?: Error) => void) => (primary.flush ? primary.flush(cb) : cb()),
  });
}

/** A logger that drops everything, for code paths (CLI tools, tests) that need one but not its output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
