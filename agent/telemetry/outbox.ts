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
 * sublevel and counted, never trusted and never fatal. The in-memory index (insertion-ordered `Map`,
 * which is key order: boot counter, then seq) gives depth, bytes and oldest age without I/O.
 */
import { EventEmitter } from 'node:events';
import type { TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
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
import { type BadRecord, newEntry, quarantineRecords, scanStore } from './outbox-scan.js';
import type {
  BatchInfo,
  EvictionReport,
  IndexEntry,
  OutboxCounters,
  OutboxDeps,
  OutboxEvents,
  OutboxOptions,
  OutboxStats,
  StoredBatch,
} from './outbox-types.js';
import type { Aggregate, Priority, Reading, TelemetryEvent } from './reading.js';
import {
  type BatchKind,
  batchId,
  type DecodedPart,
  decodePart,
  encodePart,
  MAX_PARTS,
  MAX_SEQ,
  mergeParts,
  type PartContent,
  type PartHeader,
  partKey,
  partRange,
} from './stored-batch.js';

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

type Item =
  | { kind: 'raw'; item: Reading }
  | { kind: 'agg'; item: Aggregate }
  | { kind: 'event'; item: TelemetryEvent };

interface OpenBatch {
  readonly entry: IndexEntry;
  readonly openedMonoMs: number;
  staged: Item[];
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(e: Error): void;
}

const COUNTERS_KEY = 'counters';

export class Outbox extends EventEmitter<OutboxEvents> {
  readonly #deps: OutboxDeps;
  readonly #opts: Required<OutboxOptions>;
  readonly #index = new Map<string, IndexEntry>();
  readonly #open = new Map<string, OpenBatch>();
  readonly #dirty = new Set<OpenBatch>();
  /** Batches that take no more items; sealed once their staged items are written. */
  readonly #closing = new Set<OpenBatch>();
  #acks: IndexEntry[] = [];
  #staged = 0;
  #stagedSinceMs = 0;
  #next: Deferred = deferred();
  #timer: TimerHandle | undefined;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #chain: Promise<void> = Promise.resolve();
  #nextSeq = 1;
  #bytes = 0;
  #items = 0;
  #counters = { dropped: { low: 0, normal: 0, high: 0 }, downsampled: 0, quarantined: 0, writeFailed: 0 };
  #deletedSinceCompactBytes = 0;
  #compaction: Promise<void> = Promise.resolve();
  #state: 'new' | 'open' | 'closed' = 'new';
  #linkUp = false;

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
    for (const [id, e] of entries) {
      this.#index.set(id, e);
      this.#items += e.items;
      this.#bytes += e.bytes;
    }
    if (bad.length > 0) await this.#quarantine(bad);
    this.#state = 'open';
    return { batches: this.#index.size, items: this.#items, bytes: this.#bytes, quarantined: bad.length };
  }

  /** Boots that still have stored batches (for pruning per-boot clock offsets). */
  boots(): Set<string> {
    return new Set([...this.#index.values()].map((e) => e.bootId));
  }

  appendReading(reading: Reading): Promise<void> {
    return this.#stage({ kind: 'raw', item: reading }, reading.priority ?? 'normal');
  }

  appendAggregate(aggregate: Aggregate): Promise<void> {
    return this.#stage({ kind: 'agg', item: aggregate }, aggregate.priority ?? 'normal');
  }

  /** Events are `high` priority: evicted last. */
  appendEvent(event: TelemetryEvent): Promise<void> {
    return this.#stage({ kind: 'event', item: event }, 'high');
  }

  /** Commits what is staged now and waits for it; seals every open batch if `seal`. */
  async flush(options: { seal?: boolean } = {}): Promise<void> {
    if (this.#state !== 'open') return;
    await this.#run(() => this.#commit(options.seal === true));
  }

  /**
   * Whether the link is up. While it is down nobody waits for fresh batches, so they stay open for
   * `offlineBatchMaxAgeMs` (bigger messages, a smaller index); coming up seals them at once.
   */
  setLinkUp(up: boolean): void {
    if (this.#linkUp === up) return;
    this.#linkUp = up;
    if (up) this.sealOpen();
  }

  /** Seals the open batches after the next commit (e.g. the clock became trusted). */
  sealOpen(): void {
    for (const ob of this.#open.values()) this.#closing.add(ob);
    this.#open.clear();
    this.#armAt(this.#deps.clock.monotonicMs());
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
    const e = this.#index.get(id);
    if (!e?.sealed || e.leased) return undefined;
    e.leased = true;
    e.attempted = true;
    return e;
  }

  /** Gives a leased batch back (the publish failed); it will be sent again. */
  release(id: string): void {
    const e = this.#index.get(id);
    if (e) e.leased = false;
  }

  /** The broker has it: delete the batch (with the next commit; a crash before that only duplicates). */
  ack(id: string): void {
    const e = this.#index.get(id);
    if (!e) return;
    this.#forget(e);
    this.#acks.push(e);
    this.#armAt(this.#deps.clock.monotonicMs() + this.#opts.commitIntervalMs);
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
    this.#stage({ kind: 'event', item: { ...event, data: { ...event.data, reason } } }, 'high').catch(
      () => undefined,
    );
  }

  /** Reads a leased batch. Parts that no longer decode are quarantined; undefined if none is left. */
  async read(id: string): Promise<StoredBatch | undefined> {
    const e = this.#index.get(id);
    if (!e) return undefined;
    const { parts, bad } = await this.#readParts(id);
    if (bad.length > 0) await this.#run(() => this.#quarantine(bad));
    if (parts.length === 0) {
      this.#forget(e);
      return undefined;
    }
    return { info: e, content: mergeParts(parts) };
  }

  stats(): OutboxStats {
    let openItems = this.#staged;
    for (const ob of [...this.#open.values(), ...this.#closing])
      if (!ob.entry.sealed) openItems += ob.entry.items;
    return {
      batches: this.#index.size,
      items: this.#items,
      bytes: this.#bytes,
      budgetBytes: this.#opts.budgetBytes,
      oldestAgeS: this.#oldestAgeS(),
      openItems,
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
    await this.flush({ seal: true });
    this.#state = 'closed';
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#chain;
    await this.#compaction;
  }

  #stage(item: Item, priority: Priority): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new TypeError('outbox is not open'));
    const trusted = this.#deps.trust.trusted;
    const cls = `${item.kind}/${priority}/${trusted ? 't' : 'u'}`;
    let ob = this.#open.get(cls);
    if (!ob) {
      ob = this.#openBatch({ kind: item.kind, priority, trusted });
      this.#open.set(cls, ob);
    }
    ob.staged.push(item);
    this.#dirty.add(ob);
    if (this.#staged++ === 0) this.#stagedSinceMs = this.#deps.clock.monotonicMs();
    if (ob.entry.items + ob.staged.length >= this.#opts.batchMaxItems || ob.entry.parts + 1 >= MAX_PARTS) {
      this.#open.delete(cls);
      this.#closing.add(ob);
    }
    const promise = this.#next.promise;
    if (this.#staged >= this.#opts.commitMaxItems) this.#armAt(this.#deps.clock.monotonicMs());
    else this.#armAt(this.#stagedSinceMs + this.#opts.commitIntervalMs);
    return promise;
  }

  #openBatch(header: PartHeader): OpenBatch {
    if (this.#nextSeq > MAX_SEQ) throw new RangeError('batch sequence exhausted for this boot');
    const seq = this.#nextSeq++;
    const entry = newEntry(batchId(this.#deps.bootId, seq), this.#deps.bootId, seq, header);
    return { entry, openedMonoMs: this.#deps.clock.monotonicMs(), staged: [] };
  }

  /** Arms the one timer for `dueMs` unless it is already due sooner. */
  #armAt(dueMs: number): void {
    if (this.#state !== 'open' || dueMs >= this.#timerDueMs) return;
    this.#timer?.cancel();
    this.#timerDueMs = dueMs;
    const now = this.#deps.clock.monotonicMs();
    this.#timer = this.#deps.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerDueMs = Number.POSITIVE_INFINITY;
        void this.#run(() => this.#commit(false)).catch(() => undefined);
      },
      Math.max(0, dueMs - now),
    );
  }

  /** Serialises commits, quarantine moves and eviction. */
  #run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(task);
    this.#chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #commit(sealAll: boolean): Promise<void> {
    const { store } = this.#deps;
    this.#closeAged(sealAll);
    const waiter = this.#next;
    this.#next = deferred();
    const batches = [...this.#dirty];
    this.#dirty.clear();
    const stagedCount = this.#staged;
    this.#staged = 0;
    const acks = this.#acks;
    this.#acks = [];
    const writes: { ob: OpenBatch; size: number; items: Item[] }[] = [];
    const chained = store.db.batch();
    try {
      for (const ob of batches) {
        const items = ob.staged;
        ob.staged = [];
        const bytes = encodePart(ob.entry, contentOf(ob.entry.kind, items));
        const key = partKey(ob.entry.id, ob.entry.parts);
        chained.put(key, bytes, { sublevel: store.batches });
        writes.push({ ob, size: key.length + bytes.length, items });
      }
      for (const e of acks) {
        for (let part = 0; part < e.parts; part++)
          chained.del(partKey(e.id, part), { sublevel: store.batches });
      }
      if (chained.length > 0) await chained.write({ sync: true } as object);
      else await chained.close();
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.#counters.writeFailed += stagedCount;
      // The batches keep what earlier commits wrote; the acks are retried with the next commit.
      this.#acks.push(...acks);
      this.#deps.log.error({ err: err.message, items: stagedCount }, 'outbox commit failed');
      waiter.promise.catch(() => undefined);
      waiter.reject(err);
      if (this.listenerCount('error') > 0) this.emit('error', err);
      this.#afterCommit();
      return;
    }
    for (const { ob, size, items } of writes) {
      const e = ob.entry;
      if (e.parts === 0) {
        const first = firstOf(items);
        e.firstWallMs = first.wallMs;
        e.firstMonoMs = first.monoMs;
        this.#index.set(e.id, e);
      }
      e.parts++;
      e.items += items.length;
      e.bytes += size;
      this.#items += items.length;
      this.#bytes += size;
    }
    waiter.resolve();
    this.#afterCommit();
    if (this.#bytes > this.#opts.budgetBytes) {
      try {
        await this.#evict();
      } catch (error) {
        this.#deps.log.error({ err: errorMessage(error) }, 'outbox eviction failed');
      }
    }
    if (this.#deletedSinceCompactBytes > this.#opts.budgetBytes / 4) {
      this.#deletedSinceCompactBytes = 0;
      this.#compaction = this.#compaction.then(() => store.compact()).catch(() => undefined);
    }
  }

  /** Stops adding to batches that are old enough (or to all of them), so this commit seals them. */
  #closeAged(all: boolean): void {
    const now = this.#deps.clock.monotonicMs();
    for (const [cls, ob] of this.#open) {
      if (all || now - ob.openedMonoMs >= this.#maxAgeMs()) {
        this.#open.delete(cls);
        this.#closing.add(ob);
      }
    }
  }

  /** Seals closed batches whose items are all written, and re-arms the timer for what is left. */
  #afterCommit(): void {
    for (const ob of this.#closing) {
      if (ob.staged.length > 0) continue;
      this.#closing.delete(ob);
      const e = ob.entry;
      if (e.parts === 0 || e.sealed) continue;
      if (e.parts === 1) this.#seal(e);
      // After this commit (it runs in the chain): one compact part instead of one per commit.
      else void this.#run(() => this.#consolidate(e)).catch(() => this.#seal(e));
    }
    const now = this.#deps.clock.monotonicMs();
    let due = Number.POSITIVE_INFINITY;
    if (this.#staged > 0) due = this.#stagedSinceMs + this.#opts.commitIntervalMs;
    if (this.#acks.length > 0) due = Math.min(due, now + this.#opts.commitIntervalMs);
    for (const ob of this.#open.values()) due = Math.min(due, ob.openedMonoMs + this.#maxAgeMs());
    if (due !== Number.POSITIVE_INFINITY) this.#armAt(due);
  }

  #maxAgeMs(): number {
    return this.#linkUp ? this.#opts.batchMaxAgeMs : this.#opts.offlineBatchMaxAgeMs;
  }

  #seal(e: IndexEntry): void {
    if (e.sealed || !this.#index.has(e.id)) return;
    e.sealed = true;
    this.emit('sealed', e);
  }

  /**
   * Rewrites a batch written over several commits as one part (atomically: one LevelDB batch), then
   * seals it. Its data was durable all along; this only saves the per-part header and names.
   */
  async #consolidate(e: IndexEntry): Promise<void> {
    const { store } = this.#deps;
    const { parts, bad } = await this.#readParts(e.id);
    if (bad.length > 0) await this.#quarantine(bad);
    if (parts.length > 1) {
      const bytes = encodePart(e, mergeParts(parts));
      const key = partKey(e.id, 0);
      const chained = store.db.batch();
      for (let part = 1; part < e.parts; part++)
        chained.del(partKey(e.id, part), { sublevel: store.batches });
      chained.put(key, bytes, { sublevel: store.batches });
      await chained.write();
      const size = key.length + bytes.length;
      this.#bytes += size - e.bytes;
      e.bytes = size;
      e.parts = 1;
    }
    this.#seal(e);
  }

  async #quarantine(bad: BadRecord[]): Promise<void> {
    const { store, log, clock } = this.#deps;
    for (const b of bad) {
      log.warn({ key: b.key, reason: b.reason, bytes: b.value.length }, 'outbox record quarantined');
    }
    this.#counters.quarantined += bad.length;
    await quarantineRecords(store, bad, {
      nowMs: clock.nowMs(),
      max: this.#opts.quarantineMax,
      countersKey: COUNTERS_KEY,
      counters: this.#counters,
    });
  }

  /** Brings the stored bytes below the low-water mark: downsample first, then drop (see header). */
  async #evict(): Promise<void> {
    const { store, clock, log } = this.#deps;
    const target = this.#opts.budgetBytes * LOW_WATER;
    const bytesBefore = this.#bytes;
    const ds: DownsampleTotals = { batches: 0, readings: 0, aggregates: 0 };
    for (let run = pickDownsampleRun(this.#index.values()); run.length > 0 && this.#bytes > target; ) {
      const done = await this.#downsample(run);
      if (done) {
        ds.batches += done.batches;
        ds.readings += done.readings;
        ds.aggregates += done.aggregates;
      }
      run = pickDownsampleRun(this.#index.values());
    }
    const victims = pickDropVictims(this.#index.values(), this.#bytes, target);
    if (victims.length > 0) {
      const chained = store.db.batch();
      for (const e of victims) {
        for (let part = 0; part < e.parts; part++)
          chained.del(partKey(e.id, part), { sublevel: store.batches });
        this.#counters.dropped[e.priority] += e.items;
      }
      chained.put(COUNTERS_KEY, this.#counters, { sublevel: store.meta });
      await chained.write();
      for (const e of victims) this.#forget(e);
    }
    if (ds.batches === 0 && victims.length === 0) return;
    const at = { wallMs: clock.nowMs(), monoMs: clock.monotonicMs() };
    const events: TelemetryEvent[] = [];
    if (ds.batches > 0) events.push(downsampleEvent(ds, this.#opts.downsampleWindowMs / 1000, at));
    if (victims.length > 0) events.push(dropEvent(victims, this.#counters, at));
    const dropped = victims.reduce((n, e) => n + e.items, 0);
    const report: EvictionReport = {
      downsampled: ds,
      dropped: { batches: victims.length, items: dropped, byPriority: byPriority(victims) },
      bytesBefore,
      bytesAfter: this.#bytes,
    };
    log.warn(report, 'outbox over budget: evicted');
    this.emit('evicted', report);
    for (const event of events) this.#stage({ kind: 'event', item: event }, 'high').catch(() => undefined);
  }

  /** Replaces a run of raw batches by one aggregate batch under the first one's key. */
  async #downsample(run: IndexEntry[]): Promise<DownsampleTotals | undefined> {
    const { store } = this.#deps;
    for (const e of run) e.leased = true;
    try {
      const readings: Reading[] = [];
      for (const e of run) {
        const { parts } = await this.#readParts(e.id);
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
      this.#counters.downsampled += readings.length;
      chained.put(COUNTERS_KEY, this.#counters, { sublevel: store.meta });
      await chained.write();
      for (const e of run) if (e !== head) this.#forget(e);
      this.#items -= head.items;
      this.#bytes -= head.bytes;
      this.#deletedSinceCompactBytes += head.bytes;
      // Replacing the head in place keeps its position (and key) in the oldest-first order.
      Object.assign(head, {
        kind: 'agg',
        items: aggregates.length + kept.length,
        bytes: size,
        parts: 1,
        noDownsample: true,
      } satisfies Partial<IndexEntry>);
      this.#items += head.items;
      this.#bytes += size;
      return { batches: run.length, readings: readings.length, aggregates: aggregates.length };
    } finally {
      for (const e of run) e.leased = false;
    }
  }

  /** Removes a deleted batch from the index and the accounting. */
  #forget(e: IndexEntry): void {
    if (this.#index.get(e.id) !== e) return;
    this.#index.delete(e.id);
    this.#items -= e.items;
    this.#bytes -= e.bytes;
    this.#deletedSinceCompactBytes += e.bytes;
  }

  async #readParts(id: string): Promise<{ parts: DecodedPart[]; bad: BadRecord[] }> {
    const parts: DecodedPart[] = [];
    const bad: BadRecord[] = [];
    for await (const [key, value] of this.#deps.store.batches.iterator(partRange(id))) {
      const decoded = decodePart(value);
      if (decoded.ok) parts.push(decoded.part);
      else bad.push({ key, value, reason: decoded.reason });
    }
    return { parts, bad };
  }

  #oldestAgeS(): number {
    const first = this.#index.values().next();
    if (first.done) return 0;
    const e = first.value;
    const { clock } = this.#deps;
    const ageMs =
      e.bootId === this.#deps.bootId ? clock.monotonicMs() - e.firstMonoMs : clock.nowMs() - e.firstWallMs;
    return Math.max(0, Math.round(ageMs / 1000));
  }
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function contentOf(kind: BatchKind, items: Item[]): PartContent {
  if (kind === 'raw') return { kind, readings: items.map((i) => i.item as Reading) };
  if (kind === 'agg') return { kind, aggregates: items.map((i) => i.item as Aggregate), readings: [] };
  return { kind, events: items.map((i) => i.item as TelemetryEvent) };
}

function firstOf(items: Item[]): { wallMs: number; monoMs: number } {
  const first = items[0]?.item;
  return { wallMs: first?.wallMs ?? 0, monoMs: first?.monoMs ?? 0 };
}

function byPriority(entries: readonly IndexEntry[]): Record<Priority, number> {
  const out: Record<Priority, number> = { low: 0, normal: 0, high: 0 };
  for (const e of entries) out[e.priority] += e.items;
  return out;
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
