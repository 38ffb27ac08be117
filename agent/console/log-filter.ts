/**
 * Which log lines a technician wants to see: at or above a level, of one module (`logs -l warn`,
 * `logs ota`). Lines are JSON as the logger writes them (the ring), or already formatted for people
 * (`12:00:01.234 WARN  [ota] …`, the live lines on the stdio console): the level and module are read
 * from either.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface LogFilter {
  /** Index in LOG_LEVELS; lines below it are hidden. */
  readonly minLevel: number;
  /** `ota` shows `ota` and `ota.*` lines. */
  readonly module?: string | undefined;
}

export const SHOW_ALL: LogFilter = { minLevel: 0 };

export function isLogLevel(word: string): word is LogLevelName {
  return (LOG_LEVELS as readonly string[]).includes(word);
}

export function levelIndex(level: LogLevelName): number {
  return LOG_LEVELS.indexOf(level);
}

export function matchesLogFilter(line: string, filter: LogFilter): boolean {
  const { level, mod } = fieldsOf(line);
  if (LOG_LEVELS.indexOf(level) < filter.minLevel) return false;
  return !filter.module || mod === filter.module || (mod?.startsWith(`${filter.module}.`) ?? false);
}

const PRETTY = /^\S+ (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+(?:\[([^\]]+)\] )?/;

function fieldsOf(line: string): { level: LogLevelName; mod: string | undefined } {
  if (line.startsWith('{')) {
    try {
      const r = JSON.parse(line) as { level?: unknown; mod?: unknown };
      const level = typeof r.level === 'string' && isLogLevel(r.level) ? r.level : 'info';
      return { level, mod: typeof r.mod === 'string' ? r.mod : undefined };
    } catch {
      return { level: 'info', mod: undefined };
    }
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour around the level label
  const m = PRETTY.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
  return m ? { level: m[1]!.toLowerCase() as LogLevelName, mod: m[2] } : { level: 'info', mod: undefined };
}
