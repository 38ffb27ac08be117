/**
 * Argument parsers shared by the release commands. Each returns the value or throws a usage error
 * naming the option, so commander's wiring stays declarative.
 */
import { usageError } from './cli-io.js';

/** A non-negative integer, e.g. `--seq 14`. */
export function parseUint(option: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw usageError(`${option} must be a non-negative integer, got "${text}"`);
  }
  return Number(text);
}

/** A byte count with an optional binary suffix: `65536`, `64K`, `1M`, `1G` (KiB, MiB, GiB). */
export function parseByteCount(option: string, text: string): number {
  const m = /^(\d+)([KMG])?(?:i?B)?$/i.exec(text.trim());
  const scale = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 } as const;
  const value = m ? Number(m[1]) * (m[2] ? scale[m[2].toUpperCase() as 'K' | 'M' | 'G'] : 1) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw usageError(`${option} must be a positive byte count such as 1048576 or 1M, got "${text}"`);
  }
  return value;
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
