/**
 * Command results as people read them: a list of records is an aligned table, a record is a column
 * of `key  value` lines, nested records are indented. Results are plain data (the registry's contract),
 * so any command — including ones registered after this was written — renders without a special case;
 * a few known ones get a chosen column order and units (`views`). Widths are measured before colour
 * is added, so ANSI styling never breaks alignment.
 */
import type { Style } from './terminal.js';

export type Styler = (text: string, ...styles: Style[]) => string;

export interface Column {
  readonly title: string;
  /** Cell text for a row. */
  readonly get: (row: Record<string, unknown>) => string;
  readonly align?: 'left' | 'right';
  /** Colour for a cell, by its text (e.g. red for `fault`). */
  readonly style?: (text: string) => Style | undefined;
}

const plain: Styler = (text) => text;

/** Renders rows as a table: a header, a rule, and one line per row, columns two spaces apart. */
export function renderTable(
  rows: readonly Record<string, unknown>[],
  columns: readonly Column[],
  styler: Styler = plain,
): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map((c) => c.get(row)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => width(r[i]!))));
  const pad = (text: string, i: number) => {
    const gap = ' '.repeat(widths[i]! - width(text));
    return columns[i]!.align === 'right' ? gap + text : text + gap;
  };
  const lines = [
    styler(columns.map((c, i) => pad(c.title, i)).join('  '), 'bold').trimEnd(),
    columns.map((_, i) => '-'.repeat(widths[i]!)).join('  '),
    ...cells.map((r) =>
      r
        .map((text, i) => {
          const style = columns[i]!.style?.(text);
          return style ? styler(pad(text, i), style) : pad(text, i);
        })
        .join('  ')
        .trimEnd(),
    ),
  ];
  return lines.join('\n');
}

/** One value as a table cell or after a key: numbers to 6 significant digits, records as `k=v`. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(formatValue).join(', ');
  if (isRecord(value)) {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
  }
  return String(value);
}

/** Any result, generically (used when a command has no view). */
export function renderData(value: unknown, styler: Styler = plain, indent = ''): string {
  if (value === undefined || value === null) return `${indent}ok`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`;
    if (value.every(isRecord)) return indentLines(renderTable(value, columnsOf(value), styler), indent);
    return value.map((v) => `${indent}${formatValue(v)}`).join('\n');
  }
  if (!isRecord(value)) return `${indent}${formatValue(value)}`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return `${indent}ok`;
  const keyWidth = Math.max(...entries.map(([k]) => k.length));
  return entries
    .map(([k, v]) => {
      const label = `${indent}${k}`;
      const nested = (isRecord(v) && Object.keys(v).length > 2) || (Array.isArray(v) && v.some(isRecord));
      if (nested) return `${label}:\n${renderData(v, styler, `${indent}  `)}`;
      return `${label}${' '.repeat(keyWidth - k.length + 2)}${formatValue(v)}`;
    })
    .join('\n');
}

/** Columns for a list of records: every key that occurs, in first-seen order. */
function columnsOf(rows: readonly Record<string, unknown>[]): Column[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) =>
    rows.some((r) => r[k] !== undefined),
  );
  return keys.map((key) => ({
    title: key,
    get: (row) => formatValue(row[key]),
    align: rows.every((r) => r[key] === undefined || typeof r[key] === 'number') ? 'right' : 'left',
  }));
}

/** `1234` → `1.2 s`, `95000` → `1m35s`: ages and durations for people. */
export function formatDurationMs(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(s / 3600);
  return h < 48
    ? `${h}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(h / 24)}d${h % 24}h`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Display width; East Asian wide characters are not expected in point names, so code points will do. */
function width(text: string): number {
  return [...text].length;
}

function indentLines(text: string, indent: string): string {
  return indent === '' ? text : text.replace(/^/gm, indent);
}
