/**
 * The durable outbox. `append*` stages an item and returns the promise of the next *group commit*:
 * every `commitIntervalMs` (or at once when `commitMaxItems` are waiting) all staged items are written
 * in one LevelDB batch with `sync: true` — the WAL is fsynced before any of their promises resolve, so
 * an acknowledged reading survives `kill -9` and a power cut, and 100 k readings/s cost a few fsyncs a
 * second, not 100 k. Items collect into batches (one per kind × priority × clock trust), each sealed
 * after `batchMaxAgeMs` (`offlineBatchMaxAgeMs` while the link is down) or `batchMaxItems` and then
 * offered to the uplink (`sealed` event). A batch is written as one part per commit that added to it
 * (stored-batch.ts) and, when it has several, rewritten as one compact part as it is sealed.
 *
 * The uplink `lease`s a sealed batch, `read`s it, and `ack`s it after the broker's PUBACK (deleted
 * with the next commit) or `release`s it. Above `budgetBytes` the outbox evicts down to 90 %: first it
 * downsamples the oldest raw batches (never `high` priority, never one already offered to the broker)
 * into aggregates, then drops whole batches, oldest first, `low` before `normal` before `high`. Every
 * downsampling and drop is counted (persisted) and reported as an event on `edge/<id>/events`.
 *
 * At `open` every stored part is decoded; a part that does not decode is moved to the quarantine
 * sublevel and counted, never trusted and never fatal. Corruption LevelDB itself reports (an unreadable
 * block) is thrown by `open` and emitted as `corrupt` afterwards: repairing the store is its owner's job. The in-memory index (insertion-ordered `Map`,
 * which is key order: boot counter, then seq) gives depth, bytes and oldest age without I/O.
 *
 * This class is the facade: the commit engine is group-commit.ts, the index and its leases
 * batch-index.ts, eviction outbox-evictor.ts.
 */
import { EventEmitter } from 'node:events';
import { BatchIndex } from './batch-index.js';
import { dropEvent } from './eviction.js';
import { GroupCommit } from './group-commit.js';
import { OutboxEvictor } from './outbox-evictor.js';
import { COUNTERS_KEY, readParts, scanStore } from './outbox-scan.js';
import type {
  BatchInfo,
  CounterState,
  OutboxCounters,
  OutboxDeps,
  OutboxEvents,
  OutboxOptions,
  OutboxStats,
  StoredBatch,
} from './outbox-types.js';
import type { Aggregate, Reading, TelemetryEvent } from './reading.js';
import { isCorruption } from './store-recovery.js';
import { mergeParts } from './stored-batch.js';

export type {
  BatchInfo,
  EvictionReport,
  OutboxCounters,
  OutboxDeps,
  OutboxEvents,
  OutboxOptions,
  OutboxStats,
  StoredBatch,
} from './outbox-types.js';

export class Outbox extends EventEmitter<OutboxEvents> {
  readonly #deps: OutboxDeps;
  readonly #opts: Required<OutboxOptions>;
  readonly #index = new BatchIndex();
  readonly #counters: CounterState = {
    dropped: { low: 0, normal: 0, high: 0 },
    downsampled: 0,
    quarantined: 0,
    writeFailed: 0,
  };
  readonly #engine: GroupCommit;
  #state: 'new' | 'open' | 'closed' = 'new';

  constructor(deps: OutboxDeps, options: OutboxOptions) {
    super();
    for (const key of [
      'commitIntervalMs',
      'commitMaxItems',
      'batchMaxAgeMs',
      'batchMaxItems',
      'budgetBytes',
    ] as const) {
      if (!(options[key] > 0)) throw new TypeError(`${key} must be > 0, got ${options[key]}`);
    }
    this.#deps = deps;
    this.#opts = { quarantineMax: 256, offlineBatchMaxAgeMs: options.batchMaxAgeMs, ...options };
    const shared = { clock: deps.clock, log: deps.log, store: deps.store, index: this.#index };
    const evictor = new OutboxEvictor(
      {
        ...shared,
        counters: this.#counters,
        onEvicted: (report, events) => {
          this.emit('evicted', report);
          for (const item of events)
            this.#engine.stage({ kind: 'event', item }, 'high').catch(() => undefined);
        },
      },
      this.#opts,
    );
    this.#engine = new GroupCommit(
      {
        ...shared,
        bootId: deps.bootId,
        trust: deps.trust,
        counters: this.#counters,
        onSealed: (e) => this.emit('sealed', e),
        onError: (err) => {
          if (this.listenerCount('error') > 0) this.emit('error', err);
        },
        onCorrupt: (err) => this.emit('corrupt', err),
        evict: () => evictor.evict(),
      },
      this.#opts,
    );
  }

  get bootId(): string {
    return this.#deps.bootId;
  }

  /** Scans the store: builds the index, quarantines what does not decode, loads the counters. */
  async open(): Promise<{ batches: number; items: number; bytes: number; quarantined: number }> {
    if (this.#state !== 'new') throw new TypeError('outbox already opened');
    const { store } = this.#deps;
    const saved = await store.meta.get(COUNTERS_KEY);
    if (saved && typeof saved === 'object') Object.assign(this.#counters, sanitizeCounters(saved));
    const { entries, bad } = await scanStore(store);
    for (const e of entries.values()) {
      this.#index.add(e);
      this.#index.grow(e.items, e.bytes);
    }
    if (bad.length > 0) await this.#engine.quarantine(bad);
    this.#state = 'open';
    this.#engine.activate();
    const index = this.#index;
    return { batches: index.size, items: index.items, bytes: index.bytes, quarantined: bad.length };
  }

  /** Boots that still have stored batches (for pruning per-boot clock offsets). */
  boots(): Set<string> {
    return this.#index.boots();
  }

  appendReading(reading: Reading): Promise<void> {
    return this.#engine.stage({ kind: 'raw', item: reading }, reading.priority ?? 'normal');
  }

  appendAggregate(aggregate: Aggregate): Promise<void> {
    return this.#engine.stage({ kind: 'agg', item: aggregate }, aggregate.priority ?? 'normal');
  }

  /** Events are `high` priority: evicted last. */
  appendEvent(event: TelemetryEvent): Promise<void> {
    return this.#engine.stage({ kind: 'event', item: event }, 'high');
  }

  /** Commits what is staged now and waits for it; seals every open batch if `seal`. */
  async flush(options: { seal?: boolean } = {}): Promise<void> {
    if (this.#state !== 'open') return;
    await this.#engine.flush(options.seal === true);
  }

  /**
   * Whether the link is up. While it is down nobody waits for fresh batches, so they stay open for
   * `offlineBatchMaxAgeMs` (bigger messages, a smaller index); coming up seals them at once.
   */
  setLinkUp(up: boolean): void {
    this.#engine.setLinkUp(up);
  }

  /** Seals the open batches after the next commit (e.g. the clock became trusted). */
  sealOpen(): void {
    this.#engine.sealOpen();
  }

  /** Sealed batches, oldest first. A live iterator: it sees batches added later, skips deleted ones. */
  batches(): IterableIterator<BatchInfo> {
    return this.#index.values();
  }

  /** Stored batches (sealed or not). */
  get batchCount(): number {
    return this.#index.size;
  }

  get(id: string): BatchInfo | undefined {
    return this.#index.get(id);
  }

  /** Takes a sealed batch for sending; undefined if it is unknown, open, or leased. */
  lease(id: string): BatchInfo | undefined {
    return this.#index.lease(id);
  }

  /** Gives a leased batch back (the publish failed); it will be sent again. */
  release(id: string): void {
    this.#index.release(id);
  }

  /** The broker has it: delete the batch (with the next commit; a crash before that only duplicates). */
  ack(id: string): void {
    const e = this.#index.get(id);
    if (!e) return;
    this.#index.forget(e);
    this.#engine.deleteWithNextCommit(e);
  }

  /**
   * Gives up on a batch the broker keeps refusing (a reason code such as "packet too large"): it is
   * deleted like an acknowledged one, but counted as dropped and reported (`telemetry.drop`).
   */
  discard(id: string, reason: string): void {
    const e = this.#index.get(id);
    if (!e) return;
    this.ack(id);
    this.#counters.dropped[e.priority] += e.items;
    const { clock } = this.#deps;
    const event = dropEvent([e], this.#counters, { wallMs: clock.nowMs(), monoMs: clock.monotonicMs() });
    this.#engine
      .stage({ kind: 'event', item: { ...event, data: { ...event.data, reason } } }, 'high')
      .catch(() => undefined);
  }

  /** Reads a leased batch. Parts that no longer decode are quarantined; undefined if none is left. */
  async read(id: string): Promise<StoredBatch | undefined> {
    const e = this.#index.get(id);
    if (!e) return undefined;
    try {
      const { parts, bad } = await readParts(this.#deps.store, id);
      if (bad.length > 0) await this.#engine.run(() => this.#engine.quarantine(bad));
      if (parts.length === 0) {
        this.#index.forget(e);
        return undefined;
      }
      return { info: e, content: mergeParts(parts) };
    } catch (error) {
      if (isCorruption(error)) this.emit('corrupt', error as Error);
      throw error;
    }
  }

  stats(): OutboxStats {
    return {
      batches: this.#index.size,
      items: this.#index.items,
      bytes: this.#index.bytes,
      budgetBytes: this.#opts.budgetBytes,
      oldestAgeS: this.#index.oldestAgeS(this.#deps.clock, this.#deps.bootId),
      openItems: this.#engine.openItems(),
      staged: this.#engine.staged(),
      ...this.counters(),
    };
  }

  counters(): OutboxCounters {
    return structuredClone(this.#counters);
  }

  /** Final commit (seals everything), then stops. The store stays open: its owner closes it. */
  async close(): Promise<void> {
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return;
    }
    await this.#engine.close();
    this.#state = 'closed';
  }
}

function sanitizeCounters(saved: object): Partial<OutboxCounters> {
  const s = saved as Record<string, unknown>;
  const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
  const d = (s.dropped ?? {}) as Record<string, unknown>;
  return {
    dropped: { low: n(d.low), normal: n(d.normal), high: n(d.high) },
    downsampled: n(s.downsampled),
    quarantined: n(s.quarantined),
    writeFailed: n(s.writeFailed),
  };
}
