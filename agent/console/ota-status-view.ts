/**
 * `ota status` the way `rauc status` reads: one line per slot — component, slot (`*` where it
 * booted), state, the version in it, and what else is known (booted, primary, why the last install
 * into it failed) — then the last install's outcome and the install in progress. Paths, kinds and
 * boot variables are behind `ota status --verbose` (and `--json`).
 */
import type { LastUpdate } from '../commands/status-command.js';
import { formatMiB } from '../core/units.js';
import type { HawkbitStatus } from '../ota/hawkbit/hawkbit-client.js';
import type { ComponentStatus } from '../ota/ota-status.js';
import { lastUpdateText } from './banner.js';
import { isRecord, renderData, type Styler } from './render.js';
import type { Style } from './terminal.js';

interface InstallLine {
  readonly component: string;
  readonly version: string;
  readonly phase: string;
  readonly target: string;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly percent: number;
  readonly waitingForReboot?: boolean;
  readonly waitingToInstall?: boolean;
}

export function renderOtaStatus(result: unknown, styler: Styler): string {
  if (!isRecord(result) || result.verbose === true || !Array.isArray(result.components))
    return renderData(result, styler);
  const last = isRecord(result.lastInstall) ? (result.lastInstall as unknown as LastUpdate) : undefined;
  const rows = (result.components as ComponentStatus[]).flatMap((c) =>
    (['A', 'B'] as const).map((slot, i) => slotRow(c, slot, i === 0, last)),
  );
  const widths = [0, 1, 2, 3].map((col) => Math.max(...rows.map((r) => r[col]!.length)));
  const stateStyle = (s: string): Style | undefined =>
    s === 'bad' ? 'red' : s === 'good' ? undefined : 'yellow';
  const lines = rows.map((r) =>
    [
      r[0]!.padEnd(widths[0]!),
      r[1]!.padEnd(widths[1]!),
      styler(r[2]!.padEnd(widths[2]!), ...(stateStyle(r[2]!.trim()) ? [stateStyle(r[2]!.trim())!] : [])),
      r[3]!.padEnd(widths[3]!),
      r[4]!,
    ]
      .join('  ')
      .trimEnd(),
  );
  lines.push(`last install: ${last ? lastUpdateText(last) : 'none on record'}`);
  const install = isRecord(result.install) ? (result.install as unknown as InstallLine) : undefined;
  if (install) lines.push(`install: ${installText(install)}`);
  if (typeof result.lastError === 'string') lines.push(styler(`last error: ${result.lastError}`, 'red'));
  if (isRecord(result.hawkbit)) lines.push(hawkbitText(result.hawkbit as unknown as HawkbitStatus));
  return lines.join('\n');
}

function slotRow(
  c: ComponentStatus,
  slot: 'A' | 'B',
  first: boolean,
  last: LastUpdate | undefined,
): string[] {
  const s = c.slots[slot];
  const committed = c.committed?.slot === slot ? c.committed.version : undefined;
  const failedHere =
    last?.component === c.name &&
    last.slot === slot &&
    last.outcome !== 'committed' &&
    last.version !== committed;
  const version = committed ?? (failedHere ? (last?.version ?? '') : '');
  const notes = [
    c.booted === slot ? 'booted' : '',
    c.primary === slot ? 'primary' : '',
    failedHere ? `${last!.outcome}${last!.reason ? `: ${last!.reason}` : ''}` : '',
  ].filter(Boolean);
  return [
    first ? c.name : '',
    `${slot}${c.booted === slot ? ' *' : '  '}`,
    s.state,
    version,
    notes.join(', '),
  ];
}

/** `hawkbit: last poll 12:00:01 UTC ok, 0 feedback waiting` (the server's address is in --verbose). */
function hawkbitText(h: HawkbitStatus): string {
  const poll = h.lastPoll
    ? `last poll ${new Date(h.lastPoll.at).toISOString().slice(11, 19)} UTC ${h.lastPoll.ok ? 'ok' : `failed: ${h.lastPoll.error ?? ''}`}`
    : 'not polled yet';
  return `hawkbit: ${poll}, ${h.pendingFeedback} feedback waiting`;
}

function installText(i: InstallLine): string {
  const what = `${i.component} ${i.version} into slot ${i.target}`;
  if (i.waitingForReboot) return `${what}: armed, waiting for \`ota reboot\``;
  if (i.waitingToInstall) return `${what}: written, waiting for hawkBit's maintenance window`;
  return `${what}: ${i.phase} ${i.percent}% (${formatMiB(i.bytes)}/${formatMiB(i.totalBytes)} MiB)`;
}
