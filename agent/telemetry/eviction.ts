/**
 * Eviction planning for the outbox's byte budget, as pure functions over the index (outbox.ts runs
 * them and writes the result). Downsampling takes the oldest run of raw batches that belong together
 * (same boot, priority and clock trust, so one set of aggregates describes them) and that nobody else
 * holds; `high` priority (anomalies) and batches already offered to the broker are never re-keyed.
 * Dropping takes whole batches, oldest first, `low` before `normal` before `high`, until the bytes
 * are below the target. The events describe what was done, for `edge/<id>/events`.
 */
import type { IndexEntry, OutboxCounters } from './outbox-types.js';
import { PRIORITIES, type Priority, type TelemetryEvent } from './reading.js';

/** Eviction brings the outbox down to this fraction of the budget (room before the next eviction). */
export const LOW_WATER = 0.9;
/** Batches downsampled together at most. */
export const DOWNSAMPLE_RUN_BATCHES = 256;
/** Downsampling is kept only if the aggregates take less than this fraction of the raw bytes. */
export const DOWNSAMPLE_MIN_GAIN = 0.8;

/** The oldest run of raw batches that may be downsampled together. */
export function pickDownsampleRun(
  entries: Iterable<IndexEntry>,
  maxBatches = DOWNSAMPLE_RUN_BATCHES,
): IndexEntry[] {
  const run: IndexEntry[] = [];
  for (const e of entries) {
    const eligible =
      e.kind === 'raw' && e.sealed && !e.leased && !e.attempted && !e.noDownsample && e.priority !== 'high';
    if (!eligible) {
      if (run.length > 0) break;
      continue;
    }
    const head = run[0];
    if (head && (head.bootId !== e.bootId || head.priority !== e.priority || head.trusted !== e.trusted))
      break;
    run.push(e);
    if (run.length >= maxBatches) break;
  }
  return run;
}

/** The batches to drop to get from `bytes` to at most `targetBytes`: lowest priority, oldest first. */
export function pickDropVictims(
  entries: Iterable<IndexEntry>,
  bytes: number,
  targetBytes: number,
): IndexEntry[] {
  const all = [...entries];
  const victims: IndexEntry[] = [];
  let left = bytes;
  for (const priority of PRIORITIES) {
    for (const e of all) {
      if (left <= targetBytes) return victims;
      if (e.priority !== priority || e.leased || !e.sealed) continue;
      victims.push(e);
      left -= e.bytes;
    }
  }
  return victims;
}

export interface DownsampleTotals {
  batches: number;
  readings: number;
  aggregates: number;
}

export function downsampleEvent(
  totals: DownsampleTotals,
  windowS: number,
  at: { wallMs: number; monoMs: number },
): TelemetryEvent {
  return { type: 'telemetry.downsample', data: { ...totals, windowS }, ...at };
}

/** `victims` in the order they were dropped; `counters` already include them. */
export function dropEvent(
  victims: readonly IndexEntry[],
  counters: OutboxCounters,
  at: { wallMs: number; monoMs: number },
): TelemetryEvent {
  const byPriority: Record<Priority, number> = { low: 0, normal: 0, high: 0 };
  for (const e of victims) byPriority[e.priority] += e.items;
  return {
    type: 'telemetry.drop',
    data: {
      reason: 'budget',
      batches: victims.length,
      items: byPriority.low + byPriority.normal + byPriority.high,
      ...byPriority,
      firstBatch: victims[0]?.id ?? null,
      lastBatch: victims.at(-1)?.id ?? null,
      totalDropped: counters.dropped.low + counters.dropped.normal + counters.dropped.high,
    },
    ...at,
  };
}
