/**
 * The backend's per-device table: one row per device for a small fleet, and for a large one the
 * first rows, every device with a problem (invalid messages, bad signatures, offline, an update that
 * did not end committed or rolled back) and a summary line of the rest.
 */
import type { FleetBackend } from './backend.js';

const FULL_TABLE_MAX = 20;

export function deviceTable(backend: FleetBackend, ids: readonly string[]): string {
  const head = 'device         online readings events dups badsig invalid ota            results';
  const row = (id: string) => {
    const d = backend.devices.get(id);
    if (!d) return `${id.padEnd(14)} (nothing received)`;
    return [
      id.padEnd(14),
      (d.online ? 'yes' : 'no').padEnd(6),
      String(d.readings).padStart(8),
      String(d.events).padStart(6),
      String(d.duplicates).padStart(4),
      String(d.badSignatures).padStart(6),
      String(d.invalid.length).padStart(7),
      (d.otaState ?? '-').padEnd(14),
      String(d.results.size).padStart(7),
    ].join(' ');
  };
  const troubled = (id: string) => {
    const d = backend.devices.get(id);
    return !d?.online || d.invalid.length > 0 || d.badSignatures > 0 || d.otaState === 'installed';
  };
  if (ids.length <= FULL_TABLE_MAX) return [head, ...ids.map(row)].join('\n');
  const shown = new Set([...ids.slice(0, 5), ...ids.filter(troubled).slice(0, 30)]);
  let readings = 0;
  let online = 0;
  for (const id of ids) {
    const d = backend.devices.get(id);
    readings += d?.readings ?? 0;
    if (d?.online) online++;
  }
  return [
    head,
    ...[...shown].map(row),
    `… ${ids.length - shown.size} more; all ${ids.length}: ${online} online, ${readings} readings, ${ids.filter(troubled).length} with a problem`,
  ].join('\n');
}
