/**
 * What the outbox does above `budgetBytes`: it evicts down to the low-water mark (eviction.ts picks
 * the batches). First it downsamples runs of the oldest raw batches (never `high` priority, never one
 * already offered to the broker) into one aggregate batch under the first one's key; then it drops
 * whole batches, oldest first, `low` before `normal` before `high`. Every downsampling and drop is
 * counted, and the counters are persisted in the same LevelDB batch as the deletions; the outcome is
 * reported once per eviction (`onEvicted`) with the telemetry events that tell the operator.
 */
import type { BatchIndex } from './batch-index.js';
import { downsample } from './downsample.js';
import {
  DOWNSAMPLE_MIN_GAIN,
  type DownsampleTotals,
  downsampleEvent,
  dropEvent,
  LOW_WATER,
  pickDownsampleRun,
  pickDropVictims,
} from './eviction.js';
import { COUNTERS_KEY, readParts } from './outbox-scan.js';
import type { CounterState, EvictionReport, IndexEntry, OutboxDeps } from './outbox-types.js';
import type { Priority, Reading, TelemetryEvent } from './reading.js';
import { encodePart, partKey } from './stored-batch.js';

export interface OutboxEvictorDeps extends Pick<OutboxDeps, 'clock' | 'log' | 'store'> {
  readonly index: BatchIndex;
  /** The outbox's counters, shared: the evictor counts `dropped` and `downsampled`. */
  readonly counters: CounterState;
  /** Something was evicted: the report, and the events (`high` priority) to append about it. */
  onEvicted(report: EvictionReport, events: readonly TelemetryEvent[]): void;
}

export class OutboxEvictor {
  readonly #deps: OutboxEvictorDeps;
  readonly #opts: { readonly budgetBytes: number; readonly downsampleWindowMs: number };

  constructor(
    deps: OutboxEvictorDeps,
    options: { readonly budgetBytes: number; readonly downsampleWindowMs: number },
  ) {
    this.#deps = deps;
    this.#opts = options;
  }

  /** Brings the stored bytes below the low-water mark: downsample first, then drop (see header). */
  async evict(): Promise<void> {
    const { store, clock, log, index, counters } = this.#deps;
    const target = this.#opts.budgetBytes * LOW_WATER;
    const bytesBefore = index.bytes;
    const ds: DownsampleTotals = { batches: 0, readings: 0, aggregates: 0 };
    for (let run = pickDownsampleRun(index.values()); run.length > 0 && index.bytes > target; ) {
      const done = await this.#downsample(run);
      if (done) {
        ds.batches += done.batches;
        ds.readings += done.readings;
        ds.aggregates += done.aggregates;
      }
      run = pickDownsampleRun(index.values());
    }
    const victims = pickDropVictims(index.values(), index.bytes, target);
    if (victims.length > 0) {
      const chained = store.db.batch();
      for (const e of victims) {
        for (let part = 0; part < e.parts; part++)
          chained.del(partKey(e.id, part), { sublevel: store.batches });
        counters.dropped[e.priority] += e.items;
      }
      chained.put(COUNTERS_KEY, counters, { sublevel: store.meta });
      await chained.write();
      for (const e of victims) index.forget(e);
    }
    if (ds.batches === 0 && victims.length === 0) return;
    const at = { wallMs: clock.nowMs(), monoMs: clock.monotonicMs() };
    const events: TelemetryEvent[] = [];
    if (ds.batches > 0) events.push(downsampleEvent(ds, this.#opts.downsampleWindowMs / 1000, at));
    if (victims.length > 0) events.push(dropEvent(victims, counters, at));
    const dropped = victims.reduce((n, e) => n + e.items, 0);
    const report: EvictionReport = {
      downsampled: ds,
      dropped: { batches: victims.length, items: dropped, byPriority: byPriority(victims) },
      bytesBefore,
      bytesAfter: index.bytes,
    };
    log.warn(report, 'outbox over budget: evicted');
    this.#deps.onEvicted(report, events);
  }

  /** Replaces a run of raw batches by one aggregate batch under the first one's key. */
  async #downsample(run: IndexEntry[]): Promise<DownsampleTotals | undefined> {
    const { store, index, counters } = this.#deps;
    for (const e of run) e.leased = true;
    try {
      const readings: Reading[] = [];
      for (const e of run) {
        const { parts } = await readParts(store, e.id);
        for (const p of parts) if (p.content.kind === 'raw') readings.push(...p.content.readings);
      }
      const head = run[0] as IndexEntry;
      const { aggregates, readings: kept } = downsample(
        readings,
        this.#opts.downsampleWindowMs,
        head.trusted,
      );
      const bytes = encodePart({ ...head, kind: 'agg' }, { kind: 'agg', aggregates, readings: kept });
      const key = partKey(head.id, 0);
      const size = key.length + bytes.length;
      const sourceBytes = run.reduce((n, e) => n + e.bytes, 0);
      if (size >= sourceBytes * DOWNSAMPLE_MIN_GAIN || aggregates.length === 0) {
        for (const e of run) e.noDownsample = true;
        return undefined;
      }
      const chained = store.db.batch();
      for (const e of run) {
        for (let part = 0; part < e.parts; part++)
          chained.del(partKey(e.id, part), { sublevel: store.batches });
      }
      chained.put(key, bytes, { sublevel: store.batches });
      counters.downsampled += readings.length;
      chained.put(COUNTERS_KEY, counters, { sublevel: store.meta });
      await chained.write();
      for (const e of run) if (e !== head) index.forget(e);
      index.grow(-head.items, -head.bytes);
      index.deleted(head.bytes);
      // Replacing the head in place keeps its position (and key) in the oldest-first order.
      Object.assign(head, {
        kind: 'agg',
        items: aggregates.length + kept.length,
        bytes: size,
        parts: 1,
        noDownsample: true,
      } satisfies Partial<IndexEntry>);
      index.grow(head.items, size);
      return { batches: run.length, readings: readings.length, aggregates: aggregates.length };
    } finally {
      for (const e of run) e.leased = false;
    }
  }
}

function byPriority(entries: readonly IndexEntry[]): Record<Priority, number> {
  const out: Record<Priority, number> = { low: 0, normal: 0, high: 0 };
  for (const e of entries) out[e.priority] += e.items;
  return out;
}
