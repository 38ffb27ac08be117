/**
 * The outbox's vocabulary (outbox.ts): options, what callers see of a batch, counters and reports, and
 * the index entry that the outbox and its eviction planner (eviction.ts) share.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Priority } from './reading.js';
import type { TelemetryStore } from './store.js';
import type { BatchKind, PartContent } from './stored-batch.js';

export interface OutboxOptions {
  /** Group commit interval: an append resolves within about this long (plus the fsync). */
  readonly commitIntervalMs: number;
  /** Commit at once when this many items are staged. */
  readonly commitMaxItems: number;
  /** A batch is sealed (offered to the uplink) this long after its first item while the link is up… */
  readonly batchMaxAgeMs: number;
  /** …and this long while it is down (default: `batchMaxAgeMs`). */
  readonly offlineBatchMaxAgeMs?: number;
  /** …or when it holds this many items. */
  readonly batchMaxItems: number;
  /** Eviction keeps the stored batches below this many bytes (keys + values). */
  readonly budgetBytes: number;
  /** Window of the aggregates that eviction turns old raw readings into. */
  readonly downsampleWindowMs: number;
  /** Quarantined records kept for inspection (oldest deleted beyond this). */
  readonly quarantineMax?: number;
}

export interface OutboxDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly store: TelemetryStore;
  /** This process's boot id (boot-id.ts). */
  readonly bootId: string;
  /** Whether the wall clock is trusted now (wall-clock.ts); decides the batch an item joins. */
  readonly trust: { readonly trusted: boolean };
}

/** One batch as the index knows it. Read-only to callers. */
export interface BatchInfo {
  readonly id: string;
  readonly bootId: string;
  readonly seq: number;
  readonly kind: BatchKind;
  readonly priority: Priority;
  readonly trusted: boolean;
  readonly items: number;
  readonly bytes: number;
  readonly parts: number;
  readonly firstWallMs: number;
  readonly firstMonoMs: number;
  readonly sealed: boolean;
}

/** A batch's content, its parts merged. */
export interface StoredBatch {
  readonly info: BatchInfo;
  readonly content: PartContent;
}

export interface OutboxCounters {
  /** Items dropped by eviction, by priority. */
  readonly dropped: Readonly<Record<Priority, number>>;
  /** Raw readings replaced by aggregates. */
  readonly downsampled: number;
  /** Records moved to quarantine (undecodable). */
  readonly quarantined: number;
  /** Items lost because their commit failed (I/O error): their appends rejected. */
  readonly writeFailed: number;
}

/** The outbox's own, mutable copy of its counters: shared by the parts of the outbox that count. */
export interface CounterState {
  dropped: Record<Priority, number>;
  downsampled: number;
  quarantined: number;
  writeFailed: number;
}

export interface OutboxStats extends OutboxCounters {
  readonly batches: number;
  readonly items: number;
  readonly bytes: number;
  readonly budgetBytes: number;
  /** Age of the oldest stored item, seconds (0 when empty). */
  readonly oldestAgeS: number;
  /** Items staged or in open batches, not yet offered to the uplink. */
  readonly openItems: number;
  /** Items accepted and held in memory for the next group commit (not yet on disk, not in `bytes`). */
  readonly staged: number;
}

export interface EvictionReport {
  readonly downsampled: { readonly batches: number; readonly readings: number; readonly aggregates: number };
  readonly dropped: {
    readonly batches: number;
    readonly items: number;
    readonly byPriority: Record<Priority, number>;
  };
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

export interface OutboxEvents {
  /** A batch was sealed: the uplink may send it now. */
  sealed: [BatchInfo];
  /** Eviction downsampled or dropped something. */
  evicted: [EvictionReport];
  /** A fire-and-forget append failed (its commit could not be written). */
  error: [Error];
  /** LevelDB reported corruption (in a read, a commit, an eviction): the store needs repair. */
  corrupt: [Error];
}

/** The index's record of one batch (mutable inside the outbox; callers see `BatchInfo`). */
export interface IndexEntry {
  id: string;
  bootId: string;
  seq: number;
  kind: BatchKind;
  priority: Priority;
  trusted: boolean;
  items: number;
  bytes: number;
  parts: number;
  firstWallMs: number;
  firstMonoMs: number;
  sealed: boolean;
  /** Leased by the uplink or by eviction: not to be touched by the other. */
  leased: boolean;
  /** Offered to the broker at least once in this process: never re-keyed by downsampling. */
  attempted: boolean;
  /** Downsampling would not make it smaller. */
  noDownsample: boolean;
}
