/**
 * Telemetry's health as points in the process image, so the console, rules and (if configured) the
 * fleet see them like any sensor: queue depth, bytes, oldest age, drops, quarantine, clock trust and
 * link state. They are excluded from telemetry by default (`exclude: [telemetry.*, link.*]`): sending
 * the queue depth through the queue would only measure itself.
 */
import type { PointDecl, PointTable, PointValue } from '../core/points.js';

export const TELEMETRY_METRICS: readonly PointDecl[] = [
  {
    name: 'telemetry.depth',
    unit: 'count',
    description: 'readings stored, not yet acknowledged by the broker',
  },
  { name: 'telemetry.batches', unit: 'count', description: 'batches (MQTT messages) stored' },
  { name: 'telemetry.bytes', unit: 'B', description: 'bytes stored in the outbox' },
  { name: 'telemetry.oldestAgeS', unit: 's', description: 'age of the oldest stored reading' },
  { name: 'telemetry.drops', unit: 'count', description: 'readings dropped by the byte budget (total)' },
  {
    name: 'telemetry.downsampled',
    unit: 'count',
    description: 'raw readings replaced by aggregates (total)',
  },
  { name: 'telemetry.quarantined', unit: 'count', description: 'undecodable records moved aside (total)' },
  {
    name: 'telemetry.clockTrusted',
    description: 'the wall clock is trusted (NTP or past the last trusted time)',
  },
  { name: 'link.connected', description: 'an MQTT session is up' },
];

export interface TelemetryMetricValues {
  readonly depth: number;
  readonly batches: number;
  readonly bytes: number;
  readonly oldestAgeS: number;
  readonly drops: number;
  readonly downsampled: number;
  readonly quarantined: number;
  readonly clockTrusted: boolean;
  readonly linkConnected: boolean;
}

export function declareTelemetryMetrics(points: PointTable): void {
  for (const decl of TELEMETRY_METRICS) points.declare(decl);
}

const SOURCE = 'telemetry';

export function publishTelemetryMetrics(points: PointTable, m: TelemetryMetricValues): void {
  const values: [string, PointValue][] = [
    ['telemetry.depth', m.depth],
    ['telemetry.batches', m.batches],
    ['telemetry.bytes', m.bytes],
    ['telemetry.oldestAgeS', m.oldestAgeS],
    ['telemetry.drops', m.drops],
    ['telemetry.downsampled', m.downsampled],
    ['telemetry.quarantined', m.quarantined],
    ['telemetry.clockTrusted', m.clockTrusted],
    ['link.connected', m.linkConnected],
  ];
  for (const [name, value] of values) points.update(name, value, SOURCE);
}
