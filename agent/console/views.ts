/**
 * Chosen layouts for the results of well-known commands (column order, units, colours for quality
 * and severity). Everything else — and any field a command adds later — goes through the generic
 * renderer, so a view is a nicety, never a requirement.
 */
import type { AgentStatus } from '../commands/status-command.js';
import { formatBytes } from '../core/units.js';
import { lastUpdateText, slotText } from './banner.js';
import { renderOtaStatus } from './ota-status-view.js';
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
  { title: 'input', get: (r) => fourDigits(r.input), align: 'right' },
  col('setpoint', 'setpoint', { align: 'right' }),
  { title: 'output', get: (r) => fourDigits(r.output), align: 'right' },
  col('tunings', 'tunings'),
];
/** Shown only when some loop has one (an 80-column screen has no room for empty columns). */
const LOOP_REGION: Column = col('region', 'region');
const LOOP_AUTOTUNE: Column = {
  title: 'autotune',
  get: (r) => (isRecord(r.autotune) && r.autotune.running ? 'running' : '-'),
};

function fourDigits(v: unknown): string {
  return typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : formatValue(v);
}

const loopsView: View = (result, styler) => {
  if (!Array.isArray(result) || !result.every(isRecord)) return renderData(result, styler);
  const columns = [
    ...LOOP_COLUMNS,
    ...(result.some((r) => r.region !== undefined && r.region !== null) ? [LOOP_REGION] : []),
    ...(result.some((r) => isRecord(r.autotune) && r.autotune.running) ? [LOOP_AUTOTUNE] : []),
  ];
  return renderTable(result, columns, styler);
};

const DEVICE_COLUMNS: Column[] = [
  col('device', 'id'),
  col('state', 'state', { style: (s) => (s === 'faulted' ? 'red' : undefined) }),
  {
    title: 'faulted',
    get: (r) => (r.faulted ? 'yes' : 'no'),
    style: (t) => (t === 'yes' ? 'red' : undefined),
  },
  {
    title: 'failures now/total',
    get: (r) => `${formatValue(r.consecutiveFailures)}/${formatValue(r.totalFailures)}`,
    align: 'right',
  },
  col('opens', 'opens', { align: 'right' }),
  { title: 'last error', get: (r) => (typeof r.lastError === 'string' ? r.lastError : '') },
];

const POINT_FLAGS_LEGEND =
  'flags: w = writable (an actuator or a setpoint); forced by = held by that interlock';

const RULE_COLUMNS: Column[] = [
  col('rule', 'name'),
  { title: 'kind', get: (r) => (r.interlock ? 'interlock' : 'rule') },
  {
    title: 'state',
    get: (r) => (r.active ? 'ACTIVE' : 'idle'),
    style: (t) => (t === 'ACTIVE' ? 'yellow' : undefined),
  },
  {
    title: 'now',
    get: (r) => (r.condition === true ? 'true' : r.condition === false ? 'false' : 'held (input not good)'),
  },
  col('when', 'when'),
];

/**
 * `telemetry`: byte counts in KiB/MiB and ages as durations for people (the fleet and `--json` keep
 * bytes and seconds).
 */
function humanUnits(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(humanUnits);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (typeof v !== 'number') return [k, humanUnits(v)];
      if (/bytes$/i.test(k)) return [k, formatBytes(v)];
      if (/AgeS$/.test(k)) return [k.replace(/S$/, ''), formatDurationMs(v * 1000)];
      return [k, v];
    }),
  );
}

const MODEL_COLUMNS: Column[] = [
  col('model', 'name'),
  col('state', 'state', { style: (s) => (s === 'faulted' ? 'red' : undefined) }),
  {
    title: 'runs good/failed',
    get: (r) => `${formatValue(r.good)}/${formatValue(r.failed)}`,
    align: 'right',
  },
  {
    title: 'last run',
    get: (r) => (typeof r.lastRunMs === 'number' ? `${r.lastRunMs.toFixed(1)} ms` : '-'),
    align: 'right',
  },
  { title: 'why stale', get: (r) => (typeof r.lastError === 'string' ? r.lastError : '') },
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
  'ota.status': renderOtaStatus,
  points: (result, styler) => {
    const table = tableOf(POINT_COLUMNS)(result, styler);
    const flagged = Array.isArray(result) && result.some((r) => isRecord(r) && (r.writable || r.forcedBy));
    return flagged ? `${table}\n${styler(POINT_FLAGS_LEGEND, 'dim')}` : table;
  },
  devices: tableOf(DEVICE_COLUMNS),
  models: tableOf(MODEL_COLUMNS),
  rules: tableOf(RULE_COLUMNS),
  telemetry: (result, styler) => renderData(humanUnits(result), styler),
  loops: loopsView,
  alarms: tableOf(ALARM_COLUMNS),
  status: (result, styler) => {
    const lines = statusLines(result);
    return lines ? renderData(lines, styler) : renderData(result, styler);
  },
};

/** A command's result for people. */
export function renderResult(command: string, result: unknown, styler: Styler): string {
  return (VIEWS[command] ?? renderData)(result, styler);
}

/** `status` as a technician reads it: one line per question, words instead of field names. */
function statusLines(result: unknown): Record<string, string> | undefined {
  if (!isRecord(result) || !Array.isArray(result.components) || !isRecord(result.devices)) return undefined;
  const s = result as unknown as AgentStatus;
  const lines: Record<string, string> = {
    device: `${s.deviceId ?? '-'}${s.board ? ` on ${s.board}` : ''}`,
    version: `edge-agent ${s.version}`,
    uptime: formatDurationMs(s.uptimeS * 1000),
    addresses: s.addresses.map((a) => `${a.address} (${a.iface})`).join(', ') || '-',
    link: s.link,
    alarms: `${s.alarms.active} active, ${s.alarms.unacked} unacknowledged`,
    devices: `${s.devices.total}, ${s.devices.faulted.length} faulted${s.devices.faulted.length ? `: ${s.devices.faulted.join(', ')}` : ''}`,
  };
  for (const c of s.components) {
    lines[c.name in lines ? `${c.name} (slots)` : c.name] = c.slots.map(slotText).join('   ');
  }
  lines['last update'] = s.lastUpdate ? lastUpdateText(s.lastUpdate) : 'none since start';
  return lines;
}
