/**
 * Argument parsers shared by the release commands. Each returns the value or throws a usage error
 * naming the option, so commander's wiring stays declarative.
 */
import { parseByteSize, parseDurationMs } from '../../core/units.js';
import { usageError } from './cli-io.js';

/** A non-negative integer, e.g. `--seq 14`. */
export function parseUint(option: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw usageError(`${option} must be a non-negative integer, got "${text}"`);
  }
  return Number(text);
}

/**
 * A positive byte count by agent/core/units.ts's rule: `65536`, `64K` or `64KiB` (65536), `1M`/`1MiB`
 * (1048576), `1MB` (1000000).
 */
export function parseByteCount(option: string, text: string): number {
  const size = parseByteSize(text);
  if (!size.ok) throw usageError(`${option}: ${size.reason}`);
  if (size.value < 1) throw usageError(`${option} must be a positive byte count, got "${text}"`);
  return size.value;
}

/** A positive whole number of seconds by agent/core/units.ts's rule: `60`, `60s`, `5m`, `2h`, `1d`. */
export function parseDurationS(option: string, text: string): number {
  const duration = parseDurationMs(text, 's');
  if (!duration.ok) throw usageError(`${option}: ${duration.reason}`);
  if (duration.value < 1000 || duration.value % 1000 !== 0) {
    throw usageError(`${option} must be a whole number of seconds, at least 1s, got "${text}"`);
  }
  return duration.value / 1000;
}

/** An ISO 8601 date-time (`2026-01-31T00:00:00Z`) as POSIX seconds. */
export function parseIsoSeconds(option: string, text: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms) || ms < 0) throw usageError(`${option} must be an ISO 8601 date-time, got "${text}"`);
  return Math.floor(ms / 1000);
}

/** commander's accumulator for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
