/**
 * The lines a technician sees before `login:`, like a getty's /etc/issue: which box this is and
 * whether it is well — device id, what each update component's slots hold, addresses, the link,
 * alarms, faulted devices and the last update's outcome — read from the `status` command, so the
 * banner and `status` never disagree. Each line fits 80 columns; a status that cannot be read leaves
 * just the first line.
 */

import type { CommandRegistry } from '../commands/registry.js';
import type { AgentStatus, LastUpdate, SlotSummary } from '../commands/status-command.js';
import { isRecord, type Styler } from './render.js';
import type { Terminal } from './terminal.js';

const MAX_ADDRESSES = 3;

/** Prints the banner: `head` and, from the `status` command, what state the box is in. */
export async function showBanner(term: Terminal, commands: CommandRegistry, head: string): Promise<void> {
  const status = await statusOf(commands);
  for (const line of bannerLines(head, status, (t, ...s) => term.style(t, ...s))) term.line(line);
  term.line("Type your user name to log in, or 'help'.");
}

/** After login: the user's previous login, and how the last update ended (if one did). */
export async function welcome(
  term: Terminal,
  commands: CommandRegistry,
  last: { ts: string; session: string } | undefined,
): Promise<void> {
  if (last) term.line(`Last login: ${last.ts.slice(0, 19).replace('T', ' ')} UTC on ${last.session}`);
  const status = await statusOf(commands);
  const update = isRecord(status) ? status.lastUpdate : undefined;
  if (isLastUpdate(update)) term.line(`Last update: ${lastUpdateText(update)}`);
}

async function statusOf(commands: CommandRegistry): Promise<unknown> {
  if (!commands.get('status')) return undefined;
  const result = await commands.execute('status', {}, { via: 'console', who: 'banner' });
  return result.ok ? result.result : undefined;
}

export function bannerLines(head: string, status: unknown, styler: Styler): string[] {
  if (!isAgentStatus(status)) return [head];
  const s = status;
  const lines = [s.deviceId ? `${head} · device ${styler(s.deviceId, 'bold')}` : head];
  for (const c of s.components) lines.push(`${c.name.padEnd(8)} ${c.slots.map(slotText).join('   ')}`);
  const addresses = s.addresses.filter((a) => !a.address.startsWith('fe80:'));
  if (addresses.length > 0) {
    const shown = addresses.slice(0, MAX_ADDRESSES).map((a) => `${a.address} (${a.iface})`);
    const more = addresses.length > MAX_ADDRESSES ? ` +${addresses.length - MAX_ADDRESSES}` : '';
    lines.push(`IP ${shown.join(', ')}${more}`);
  }
  const alarms = `alarms ${s.alarms.active} active, ${s.alarms.unacked} unacked`;
  const faulted = s.devices.faulted.length;
  lines.push(
    [
      `link ${s.link}`,
      s.alarms.active + s.alarms.unacked > 0 ? styler(alarms, 'yellow') : alarms,
      `devices ${s.devices.total}, ${faulted > 0 ? styler(`${faulted} faulted`, 'red') : '0 faulted'}`,
    ].join(' · '),
  );
  if (s.lastUpdate) lines.push(`last update: ${lastUpdateText(s.lastUpdate)}`);
  return lines;
}

/** `rootfs 1.2.0 rolled back: boot-failed (2026-12-06 02:10 UTC)`. */
export function lastUpdateText(u: LastUpdate): string {
  const outcome = u.outcome === 'rolled-back' ? 'rolled back' : u.outcome;
  const when = new Date(u.wallMs).toISOString().slice(0, 16).replace('T', ' ');
  return `${u.component} ${u.version ?? '?'} ${outcome}${u.reason ? `: ${u.reason}` : ''} (${when} UTC)`;
}

/** `A good 1.1.0 (booted, primary)`. */
export function slotText(slot: SlotSummary): string {
  const marks = [slot.booted ? 'booted' : '', slot.primary ? 'primary' : ''].filter(Boolean).join(', ');
  return [slot.slot, slot.state, slot.version ?? '', marks ? `(${marks})` : ''].filter(Boolean).join(' ');
}

export function isLastUpdate(v: unknown): v is LastUpdate {
  return (
    isRecord(v) &&
    typeof v.component === 'string' &&
    typeof v.outcome === 'string' &&
    typeof v.wallMs === 'number'
  );
}

function isAgentStatus(v: unknown): v is AgentStatus {
  return (
    isRecord(v) &&
    typeof v.version === 'string' &&
    Array.isArray(v.components) &&
    Array.isArray(v.addresses) &&
    isRecord(v.alarms) &&
    isRecord(v.devices)
  );
}
