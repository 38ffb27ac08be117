/**
 * The one rule for sizes and durations written as text, shared by configuration (`telemetry.budget`)
 * and the CLI (`manifest create --chunk`, `fleet sign --ttl`), so that `1M` means the same everywhere.
 *
 * Sizes: a number (decimals allowed, rounded to whole bytes) and an optional unit, spaces allowed
 * between. IEC units are powers of 1024 — `KiB`, `MiB`, `GiB`, and the bare `K`, `M`, `G` mean the same;
 * SI units are powers of 1000 — `kB`, `MB`, `GB`. `B` or no unit is bytes. Units are case-sensitive, and
 * the forms whose meaning depends on who wrote them (`KB`, `Kb`, `mb`, `kib`, …) are rejected, not
 * guessed (IEC 80000-13; `kB` is the SI spelling).
 *
 * Durations: a non-negative integer and a unit `ms`, `s`, `m` (minutes), `h` or `d`. A bare number takes
 * the unit the caller names (seconds for `--ttl`).
 *
 * Text is untrusted input: the parsers return a result, never throw.
 */

export type UnitResult =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly reason: string };

/** Bytes per unit; see the module header for the rule. */
export const BYTE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1e3,
  MB: 1e6,
  GB: 1e9,
  K: 1024,
  KiB: 1024,
  M: 1024 ** 2,
  MiB: 1024 ** 2,
  G: 1024 ** 3,
  GiB: 1024 ** 3,
};

/** Milliseconds per unit. */
export const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const SIZE_TEXT = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/;
const DURATION_TEXT = /^(\d+)\s*([A-Za-z]*)$/;

/** `64MiB` → 67108864, `500MB` → 500000000, `1M` → 1048576, `65536` → 65536. */
export function parseByteSize(text: string): UnitResult {
  const m = typeof text === 'string' ? SIZE_TEXT.exec(text.trim()) : null;
  if (!m)
    return { ok: false, reason: `expected a size such as 65536, 64MiB or 500MB, got "${String(text)}"` };
  const unit = m[2] as string;
  const scale = unit === '' ? 1 : BYTE_UNITS[unit];
  if (scale === undefined) {
    return {
      ok: false,
      reason: `unknown size unit "${unit}" in "${text}": use B, kB/MB/GB (1000-based) or KiB/MiB/GiB or K/M/G (1024-based)`,
    };
  }
  const value = Math.round(Number(m[1]) * scale);
  if (!Number.isSafeInteger(value)) return { ok: false, reason: `size "${text}" is too large` };
  return { ok: true, value };
}

/** `30s` → 30000, `5m` → 300000, `250ms` → 250; a bare `60` is 60 `bareUnit`s. */
export function parseDurationMs(text: string, bareUnit: DurationUnit): UnitResult {
  const m = typeof text === 'string' ? DURATION_TEXT.exec(text.trim()) : null;
  if (!m) return { ok: false, reason: `expected a duration such as 60s, 5m or 1h, got "${String(text)}"` };
  const unit = (m[2] as string) || bareUnit;
  const scale = DURATION_UNITS_MS[unit];
  if (scale === undefined) {
    return { ok: false, reason: `unknown duration unit "${unit}" in "${text}": use ms, s, m, h or d` };
  }
  const value = Number(m[1]) * scale;
  if (!Number.isSafeInteger(value)) return { ok: false, reason: `duration "${text}" is too long` };
  return { ok: true, value };
}

/** A byte count for people, 1024-based: `512 B`, `9.8 KiB`, `812.4 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KiB` : `${formatMiB(bytes)} MiB`;
}

/** Bytes as MiB to one decimal, without the unit (`406.2/812.4 MiB` progress lines add it once). */
export function formatMiB(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(1);
}
