/**
 * The outbox's commit engine. `stage` adds an item to the open batch of its class (kind × priority ×
 * clock trust) and returns the promise of the next *group commit*: every `commitIntervalMs` (or at
 * once when `commitMaxItems` are waiting) all staged items, and the deletions of acknowledged batches,
 * are written in one LevelDB chained batch with `sync: true`, so the WAL is fsynced before any of
 * their promises resolve. Each commit writes one part per batch it added to; a batch stops taking
 * items after `batchMaxAgeMs` (`offlineBatchMaxAgeMs` while the link is down) or `batchMaxItems`, and
 * once its items are all written it is rewritten as one compact part and sealed (`onSealed`).
 *
 * Commits, quarantine moves, consolidation and eviction all run one at a time in one chain (`run`);
 * one timer, armed for the earliest thing due, drives it. A failed commit rejects its appends and
 * counts them (`writeFailed`); the batches keep what earlier commits wrote.
 */
import type { TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { BatchIndex } from './batch-index.js';
import { type BadRecord, COUNTERS_KEY, newEntry, quarantineRecords, readParts } from './outbox-scan.js';
import type { CounterState, IndexEntry, OutboxDeps, OutboxOptions } from './outbox-types.js';
import type { Aggregate, Priority, Reading, TelemetryEvent } from './reading.js';
import { isCorruption } from './store-recovery.js';
import {
  type BatchKind,
  batchId,
  encodePart,
  MAX_PARTS,
  MAX_SEQ,
  mergeParts,
  type PartContent,
  type PartHeader,
  partKey,
} from './stored-batch.js';

export type StagedItem =
  | { kind: 'raw'; item: Reading }
  | { kind: 'agg'; item: Aggregate }
  | { kind: 'event'; item: TelemetryEvent };

export interface GroupCommitDeps extends Pick<OutboxDeps, 'clock' | 'log' | 'store' | 'bootId' | 'trust'> {
  readonly index: BatchIndex;
  /** The outbox's counters, shared: the engine counts `writeFailed` and `quarantined`. */
  readonly counters: CounterState;
  /** A batch is sealed: it can be offered to the uplink. */
  onSealed(e: IndexEntry): void;
  /** A commit failed; its appends have been rejected. */
  onError(err: Error): void;
  /** LevelDB reported corruption in a commit, an eviction or a consolidation: the store needs repair. */
  onCorrupt(err: Error): void;
  /** Runs in the chain after a commit that left the store over `budgetBytes`. */
  evict(): Promise<void>;
}

interface OpenBatch {
  readonly entry: IndexEntry;
  readonly openedMonoMs: number;
  staged: StagedItem[];
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(e: Error): void;
}

export class GroupCommit {
  readonly #deps: GroupCommitDeps;
  readonly #opts: Required<OutboxOptions>;
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
  #compaction: Promise<void> = Promise.resolve();
  #active = false;
  #linkUp = false;

  constructor(deps: GroupCommitDeps, options: Required<OutboxOptions>) {
    this.#deps = deps;
    this.#opts = options;
  }

  /** Starts taking items (after the outbox has opened its store). */
  activate(): void {
    this.#active = true;
  }

  /** Items waiting in memory for the next commit. */
  staged(): number {
    return this.#staged;
  }

  /** Items staged or written to batches not sealed yet. */
  openItems(): number {
    let openItems = this.#staged;
    for (const ob of [...this.#open.values(), ...this.#closing])
      if (!ob.entry.sealed) openItems += ob.entry.items;
    return openItems;
  }

  stage(item: StagedItem, priority: Priority): Promise<void> {
    if (!this.#active) return Promise.reject(new TypeError('outbox is not open'));
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

  /** Commits what is staged now and waits for it; seals every open batch if `sealAll`. */
  flush(sealAll: boolean): Promise<void> {
    return this.run(() => this.#commit(sealAll));
  }

  /** Deletes a batch (already forgotten by the index) with the next commit. */
  deleteWithNextCommit(e: IndexEntry): void {
    this.#acks.push(e);
    this.#armAt(this.#deps.clock.monotonicMs() + this.#opts.commitIntervalMs);
  }

  /** See `Outbox.setLinkUp`. */
  setLinkUp(up: boolean): void {
    if (this.#linkUp === up) return;
    this.#linkUp = up;
    if (up) this.sealOpen();
  }

  /** Seals the open batches after the next commit. */
  sealOpen(): void {
    for (const ob of this.#open.values()) this.#closing.add(ob);
    this.#open.clear();
    this.#armAt(this.#deps.clock.monotonicMs());
  }

  /** Final commit (seals everything), then stops and waits for the chain and any compaction. */
  async close(): Promise<void> {
    await this.flush(true);
    this.#active = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#chain;
    await this.#compaction;
  }

  /** Serialises commits, quarantine moves and eviction. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(task);
    this.#chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Moves undecodable records to the quarantine sublevel and counts them (persisted). */
  async quarantine(bad: BadRecord[]): Promise<void> {
    const { store, log, clock, counters } = this.#deps;
    for (const b of bad) {
      log.warn({ key: b.key, reason: b.reason, bytes: b.value.length }, 'outbox record quarantined');
    }
    counters.quarantined += bad.length;
    await quarantineRecords(store, bad, {
      nowMs: clock.nowMs(),
      max: this.#opts.quarantineMax,
      countersKey: COUNTERS_KEY,
      counters,
    });
  }

  #openBatch(header: PartHeader): OpenBatch {
    if (this.#nextSeq > MAX_SEQ) throw new RangeError('batch sequence exhausted for this boot');
    const seq = this.#nextSeq++;
    const entry = newEntry(batchId(this.#deps.bootId, seq), this.#deps.bootId, seq, header);
    return { entry, openedMonoMs: this.#deps.clock.monotonicMs(), staged: [] };
  }

  /** Arms the one timer for `dueMs` unless it is already due sooner. */
  #armAt(dueMs: number): void {
    if (!this.#active || dueMs >= this.#timerDueMs) return;
    this.#timer?.cancel();
    this.#timerDueMs = dueMs;
    const now = this.#deps.clock.monotonicMs();
    this.#timer = this.#deps.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerDueMs = Number.POSITIVE_INFINITY;
        void this.run(() => this.#commit(false)).catch(() => undefined);
      },
      Math.max(0, dueMs - now),
    );
  }

  async #commit(sealAll: boolean): Promise<void> {
    const { store, index } = this.#deps;
    this.#closeAged(sealAll);
    const waiter = this.#next;
    this.#next = deferred();
    const batches = [...this.#dirty];
    this.#dirty.clear();
    const stagedCount = this.#staged;
    this.#staged = 0;
    const acks = this.#acks;
    this.#acks = [];
    const writes: { ob: OpenBatch; size: number; items: StagedItem[] }[] = [];
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
      this.#deps.counters.writeFailed += stagedCount;
      // The batches keep what earlier commits wrote; the acks are retried with the next commit.
      this.#acks.push(...acks);
      this.#deps.log.error({ err: err.message, items: stagedCount }, 'outbox commit failed');
      waiter.promise.catch(() => undefined);
      waiter.reject(err);
      this.#deps.onError(err);
      this.#afterCommit();
      this.#reportCorruption(err);
      return;
    }
    for (const { ob, size, items } of writes) {
      const e = ob.entry;
      if (e.parts === 0) {
        const first = firstOf(items);
        e.firstWallMs = first.wallMs;
        e.firstMonoMs = first.monoMs;
        index.add(e);
      }
      e.parts++;
      e.items += items.length;
      e.bytes += size;
      index.grow(items.length, size);
    }
    waiter.resolve();
    this.#afterCommit();
    if (index.bytes > this.#opts.budgetBytes) {
      try {
        await this.#deps.evict();
      } catch (error) {
        this.#deps.log.error({ err: errorMessage(error) }, 'outbox eviction failed');
        this.#reportCorruption(error);
      }
    }
    if (index.deletedSinceCompactBytes > this.#opts.budgetBytes / 4) {
      index.takeDeletedBytes();
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
      else
        void this.run(() => this.#consolidate(e)).catch((error: unknown) => {
          this.#seal(e);
          this.#reportCorruption(error);
        });
    }
    const now = this.#deps.clock.monotonicMs();
    let due = Number.POSITIVE_INFINITY;
    if (this.#staged > 0) due = this.#stagedSinceMs + this.#opts.commitIntervalMs;
    if (this.#acks.length > 0) due = Math.min(due, now + this.#opts.commitIntervalMs);
    for (const ob of this.#open.values()) due = Math.min(due, ob.openedMonoMs + this.#maxAgeMs());
    if (due !== Number.POSITIVE_INFINITY) this.#armAt(due);
  }

  #reportCorruption(error: unknown): void {
    if (isCorruption(error)) this.#deps.onCorrupt(error instanceof Error ? error : new Error(String(error)));
  }

  #maxAgeMs(): number {
    return this.#linkUp ? this.#opts.batchMaxAgeMs : this.#opts.offlineBatchMaxAgeMs;
  }

  #seal(e: IndexEntry): void {
    if (e.sealed || !this.#deps.index.has(e.id)) return;
    e.sealed = true;
    this.#deps.onSealed(e);
  }

  /**
   * Rewrites a batch written over several commits as one part (atomically: one LevelDB batch), then
   * seals it. Its data was durable all along; this only saves the per-part header and names.
   */
  async #consolidate(e: IndexEntry): Promise<void> {
    const { store, index } = this.#deps;
    const { parts, bad } = await readParts(store, e.id);
    if (bad.length > 0) await this.quarantine(bad);
    if (parts.length > 1) {
      const bytes = encodePart(e, mergeParts(parts));
      const key = partKey(e.id, 0);
      const chained = store.db.batch();
      for (let part = 1; part < e.parts; part++)
        chained.del(partKey(e.id, part), { sublevel: store.batches });
      chained.put(key, bytes, { sublevel: store.batches });
      await chained.write();
      const size = key.length + bytes.length;
      index.grow(0, size - e.bytes);
      e.bytes = size;
      e.parts = 1;
    }
    this.#seal(e);
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

function contentOf(kind: BatchKind, items: StagedItem[]): PartContent {
  if (kind === 'raw') return { kind, readings: items.map((i) => i.item as Reading) };
  if (kind === 'agg') return { kind, aggregates: items.map((i) => i.item as Aggregate), readings: [] };
  return { kind, events: items.map((i) => i.item as TelemetryEvent) };
}

function firstOf(items: StagedItem[]): { wallMs: number; monoMs: number } {
  const first = items[0]?.item;
  return { wallMs: first?.wallMs ?? 0, monoMs: first?.monoMs ?? 0 };
}
