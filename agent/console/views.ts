/**
 * Chosen layouts for the results of well-known commands (column order, units, colours for quality
 * and severity). Everything else — and any field a command adds later — goes through the generic
 * renderer, so a view is a nicety, never a requirement.
 */
import {
  type Column,
  formatDurationMs,
  formatValue,
  isRecord,
  renderData,
  renderTable,
  type Styler,
} from './render.js';

const qualityStyle = (q: string) => (q === 'fault' ? 'red' : q === 'stale' ? 'yellow' : undefined);
const severityStyle = (s: string) =>
  s === 'critical' || s === 'major' ? 'red' : s === 'warning' || s === 'minor' ? 'yellow' : undefined;
const col = (title: string, key: string, extra: Partial<Column> = {}): Column => ({
  title,
  get: (row) => formatValue(row[key]),
  ...extra,
});
const clockTime = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString().slice(11, 19) : '-');

const POINT_COLUMNS: Column[] = [
  col('point', 'name'),
  col('value', 'value', { align: 'right' }),
  col('unit', 'unit'),
  col('quality', 'quality', { style: qualityStyle }),
  { title: 'age', get: (r) => formatDurationMs(r.ageMs), align: 'right' },
  {
    title: 'flags',
    get: (r) => [r.writable ? 'w' : '', r.forcedBy ? `forced by ${String(r.forcedBy)}` : ''].join(' ').trim(),
  },
];

const LOOP_COLUMNS: Column[] = [
  col('loop', 'name'),
  col('mode', 'mode'),
  col('state', 'state', { style: (s) => (s === 'safe' ? 'yellow' : undefined) }),
  col('input', 'input', { align: 'right' }),
  col('setpoint', 'setpoint', { align: 'right' }),
  col('output', 'output', { align: 'right' }),
  col('tunings', 'tunings'),
  col('region', 'region'),
  { title: 'autotune', get: (r) => (isRecord(r.autotune) && r.autotune.running ? 'running' : '-') },
];

const ALARM_COLUMNS: Column[] = [
  col('alarm', 'id'),
  col('state', 'state'),
  col('severity', 'severity', { style: severityStyle }),
  { title: 'raised', get: (r) => clockTime(r.raisedAtWallMs) },
  col('count', 'raiseCount', { align: 'right' }),
  col('message', 'message'),
];

type View = (result: unknown, styler: Styler) => string;

const tableOf =
  (columns: Column[]): View =>
  (result, styler) =>
    Array.isArray(result) && result.every(isRecord)
      ? renderTable(result, columns, styler)
      : renderData(result, styler);

const VIEWS: Record<string, View> = {
  points: tableOf(POINT_COLUMNS),
  loops: tableOf(LOOP_COLUMNS),
  alarms: tableOf(ALARM_COLUMNS),
  status: (result, styler) => {
    if (!isRecord(result)) return renderData(result, styler);
    const { uptimeS, ...rest } = result;
    return renderData(
      typeof uptimeS === 'number' ? { ...rest, uptime: formatDurationMs(uptimeS * 1000) } : result,
      styler,
    );
  },
};

/** A command's result for people. */
export function renderResult(command: string, result: unknown, styler: Styler): string {
  return (VIEWS[command] ?? renderData)(result, styler);
}
