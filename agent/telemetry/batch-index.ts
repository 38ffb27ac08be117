/**
 * The outbox's in-memory index of stored batches and the lease state the uplink and eviction share.
 * An insertion-ordered `Map` is key order (boot counter, then seq), so iteration is oldest first, and
 * it keeps the totals (items, bytes, bytes deleted since the last compaction) without any I/O. A
 * batch is `lease`d by one user at a time — the uplink sending it or eviction rewriting it — and only
 * sealed batches can be leased.
 */
import type { Clock } from '../core/clock.js';
import type { IndexEntry } from './outbox-types.js';

export class BatchIndex {
  readonly #entries = new Map<string, IndexEntry>();
  #items = 0;
  #bytes = 0;
  #deletedSinceCompactBytes = 0;

  get size(): number {
    return this.#entries.size;
  }

  get items(): number {
    return this.#items;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Bytes deleted since the last `takeDeletedBytes` (what a compaction would reclaim). */
  get deletedSinceCompactBytes(): number {
    return this.#deletedSinceCompactBytes;
  }

  takeDeletedBytes(): void {
    this.#deletedSinceCompactBytes = 0;
  }

  /** Oldest first; a live iterator: it sees batches added later, skips deleted ones. */
  values(): IterableIterator<IndexEntry> {
    return this.#entries.values();
  }

  get(id: string): IndexEntry | undefined {
    return this.#entries.get(id);
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Adds a batch (at the end of the order); its items and bytes are counted as it grows. */
  add(e: IndexEntry): void {
    this.#entries.set(e.id, e);
  }

  /** Counts items and bytes written to a batch (negative when it shrinks). */
  grow(items: number, bytes: number): void {
    this.#items += items;
    this.#bytes += bytes;
  }

  /** Counts bytes of a batch that were deleted from the store (they wait for a compaction). */
  deleted(bytes: number): void {
    this.#deletedSinceCompactBytes += bytes;
  }

  /** Removes a deleted batch from the index and the accounting. */
  forget(e: IndexEntry): void {
    if (this.#entries.get(e.id) !== e) return;
    this.#entries.delete(e.id);
    this.#items -= e.items;
    this.#bytes -= e.bytes;
    this.#deletedSinceCompactBytes += e.bytes;
  }

  /** Takes a sealed batch for sending; undefined if it is unknown, open, or leased. */
  lease(id: string): IndexEntry | undefined {
    const e = this.#entries.get(id);
    if (!e?.sealed || e.leased) return undefined;
    e.leased = true;
    e.attempted = true;
    return e;
  }

  /** Gives a leased batch back. */
  release(id: string): void {
    const e = this.#entries.get(id);
    if (e) e.leased = false;
  }

  /** Boots that still have stored batches. */
  boots(): Set<string> {
    return new Set([...this.#entries.values()].map((e) => e.bootId));
  }

  /**
   * Age of the oldest batch in whole seconds: by the monotonic clock for this boot's batches, by
   * the wall clock for earlier boots'.
   */
  oldestAgeS(clock: Clock, bootId: string): number {
    const first = this.#entries.values().next();
    if (first.done) return 0;
    const e = first.value;
    const ageMs = e.bootId === bootId ? clock.monotonicMs() - e.firstMonoMs : clock.nowMs() - e.firstWallMs;
    return Math.max(0, Math.round(ageMs / 1000));
  }
}
