/**
 * Moves sealed batches from the outbox to the broker over the shared link. Each batch is one MQTT 5
 * message, QoS 1, with user properties `boot` and `seq` (the batch's key) so the backend can drop a
 * duplicate; the batch leaves the outbox only after the broker's PUBACK. At most `inFlightMax`
 * batches are unacknowledged at a time.
 *
 * Two queues: *live* — batches sealed while the link is up — always go first and unpaced, so fresh
 * readings arrive within a second even during a long catch-up; the *backlog* — everything older,
 * oldest first — is paced by a token bucket (`drainReadingsPerS`) so a gateway returning from an
 * outage does not flood the broker or starve its own uplink. When a session is lost, unacknowledged
 * batches go back to the outbox and the backlog walk restarts from the oldest after reconnecting.
 *
 * Batches of the current boot taken before the wall clock was trusted — live or backlog — are held
 * back (for at most `trustWaitMs` after start), because once the clock is trusted they can be sent
 * with corrected times instead of flagged ones (senml-pack.ts).
 *
 * A batch the broker answers with an error reason code pauses the backlog for `retryMs`; refused
 * `MAX_REJECTIONS` times (say "packet too large"), it is discarded — counted and reported as a drop —
 * so that one message the broker will never take cannot hold back everything behind it.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { isLinkError } from '../link/errors.js';
import type { Link } from '../link/types.js';
import type { BatchInfo, Outbox } from './outbox.js';
import { encodeBatch } from './senml-pack.js';
import { TokenBucket } from './token-bucket.js';

export interface UplinkDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly outbox: Outbox;
  readonly link: Link;
  readonly wallClock: { readonly trusted: boolean; offsetFor(bootId: string): number | undefined };
}

export interface UplinkOptions {
  /** Unacknowledged batches at most. */
  readonly inFlightMax: number;
  /** Backlog pace, readings per second (live batches are not paced). */
  readonly drainReadingsPerS: number;
  /** Token bucket size, readings. */
  readonly drainBurstReadings: number;
  /** How long untrusted batches of this boot wait for the clock before they are sent flagged. */
  readonly trustWaitMs: number;
  /** Pause of the backlog after the broker rejected a batch (MQTT 5 error reason code). */
  readonly retryMs: number;
}

export interface SentBatch {
  readonly id: string;
  readonly items: number;
  readonly bytes: number;
  readonly live: boolean;
  readonly unsynced: boolean;
}

export interface UplinkStats {
  readonly inFlight: number;
  readonly live: number;
  readonly sentBatches: number;
  readonly sentItems: number;
  readonly sentBytes: number;
  readonly rejected: number;
  readonly lastError: string | undefined;
}

export interface UplinkEvents {
  sent: [SentBatch];
}

/** A batch the broker refused this many times is discarded (counted and reported as a drop). */
export const MAX_REJECTIONS = 3;

export class Uplink extends EventEmitter<UplinkEvents> {
  readonly #deps: UplinkDeps;
  readonly #opts: UplinkOptions;
  readonly #bucket: TokenBucket;
  readonly #live: string[] = [];
  readonly #liveSet = new Set<string>();
  readonly #inFlight = new Set<string>();
  /** Settles once the batch leased last has been handed to the link (see #send). */
  #handedOver: Promise<void> = Promise.resolve();
  /** Batches the broker refused, and how often. */
  readonly #rejections = new Map<string, number>();
  /** undefined: not started; null: walked to the end. */
  #cursor: Iterator<BatchInfo> | null | undefined;
  #backlogDirty = true;
  #timer: TimerHandle | undefined;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #wakeDirty = false;
  #pausedUntilMs = 0;
  #startedMonoMs = 0;
  #running = false;
  #stats = {
    sentBatches: 0,
    sentItems: 0,
    sentBytes: 0,
    rejected: 0,
    lastError: undefined as string | undefined,
  };
  readonly #unsubscribe: (() => void)[] = [];

  constructor(deps: UplinkDeps, options: UplinkOptions) {
    super();
    if (!(options.inFlightMax >= 1))
      throw new TypeError(`inFlightMax must be >= 1, got ${options.inFlightMax}`);
    this.#deps = deps;
    this.#opts = options;
    this.#bucket = new TokenBucket(deps.clock, options.drainReadingsPerS, options.drainBurstReadings);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startedMonoMs = this.#deps.clock.monotonicMs();
    const { link, outbox } = this.#deps;
    const onUp = () => {
      this.#backlogDirty = true;
      this.#pump();
    };
    const onDown = () => {
      this.#live.length = 0;
      this.#liveSet.clear();
    };
    const onSealed = (b: BatchInfo) => {
      // A batch taken before the clock is trusted waits in the backlog like older ones (#held).
      if (!link.connected || this.#held(b)) return;
      this.#live.push(b.id);
      this.#liveSet.add(b.id);
      this.#pump();
    };
    link.on('up', onUp);
    link.on('down', onDown);
    outbox.on('sealed', onSealed);
    this.#unsubscribe.push(
      () => link.off('up', onUp),
      () => link.off('down', onDown),
      () => outbox.off('sealed', onSealed),
    );
    this.#pump();
  }

  /** The clock became trusted: held batches may go now. */
  clockTrusted(): void {
    this.#backlogDirty = true;
    this.#pump();
  }

  /** Stops taking batches; in-flight ones finish (or fail) on their own. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  stats(): UplinkStats {
    return { inFlight: this.#inFlight.size, live: this.#live.length, ...this.#stats };
  }

  #pump(): void {
    const { link, outbox, clock } = this.#deps;
    while (this.#running && link.connected && this.#inFlight.size < this.#opts.inFlightMax) {
      let info: BatchInfo | undefined;
      let live = false;
      while (!info && this.#live.length > 0) {
        const id = this.#live.shift() as string;
        this.#liveSet.delete(id);
        info = outbox.lease(id);
        live = info !== undefined;
      }
      if (!info) {
        const now = clock.monotonicMs();
        if (now < this.#pausedUntilMs) {
          this.#wakeAt(this.#pausedUntilMs);
          return;
        }
        const waitMs = this.#bucket.msUntilAvailable();
        if (waitMs > 0) {
          this.#wakeAt(now + waitMs);
          return;
        }
        info = this.#nextBacklog();
        if (!info) return;
        this.#bucket.take(info.kind === 'event' ? 1 : info.items);
      }
      this.#send(info, live);
    }
  }

  /**
   * The oldest sealed batch not in flight, not queued live, and not held for the clock. The walk is a
   * live iterator over the outbox index; once it reaches the end it restarts only when something may
   * have become sendable (reconnect, a failed send, the clock trusted) or after a second.
   */
  #nextBacklog(): BatchInfo | undefined {
    const { outbox, clock } = this.#deps;
    if (this.#backlogDirty || !this.#cursor) {
      if (!this.#backlogDirty && this.#cursor === null) return undefined;
      this.#cursor = outbox.batches();
      this.#backlogDirty = false;
    }
    for (let r = this.#cursor.next(); !r.done; r = this.#cursor.next()) {
      const b = r.value;
      if (!b.sealed || this.#inFlight.has(b.id) || this.#liveSet.has(b.id)) continue;
      if (this.#held(b)) {
        this.#wakeAt(this.#startedMonoMs + this.#opts.trustWaitMs, true);
        continue;
      }
      const leased = outbox.lease(b.id);
      if (leased) return leased;
    }
    this.#cursor = null;
    if (outbox.batchCount > this.#inFlight.size) this.#wakeAt(clock.monotonicMs() + 1000, true);
    return undefined;
  }

  #held(b: BatchInfo): boolean {
    const { outbox, wallClock, clock } = this.#deps;
    return (
      !b.trusted &&
      b.bootId === outbox.bootId &&
      !wallClock.trusted &&
      clock.monotonicMs() - this.#startedMonoMs < this.#opts.trustWaitMs
    );
  }

  #send(info: BatchInfo, live: boolean): void {
    const { outbox, link, log, wallClock } = this.#deps;
    this.#inFlight.add(info.id);
    const done = (ok: boolean) => {
      this.#inFlight.delete(info.id);
      if (!ok) {
        outbox.release(info.id);
        this.#backlogDirty = true;
      }
      this.#pump();
    };
    // Batches are read back concurrently but handed to the link in the order they were leased, so
    // they leave oldest first even when a later read finishes sooner.
    const previous = this.#handedOver;
    let handOver = () => {};
    this.#handedOver = new Promise<void>((resolve) => {
      handOver = resolve;
    });
    void (async () => {
      let published: Promise<void>;
      let wire: ReturnType<typeof encodeBatch>;
      try {
        const batch = await outbox.read(info.id);
        await previous;
        if (!batch) {
          done(true);
          return;
        }
        wire = encodeBatch(batch, {
          deviceId: link.deviceId,
          offsetMs: wallClock.offsetFor(info.bootId),
        });
        const topic = info.kind === 'event' ? link.topics.events : link.topics.telemetry;
        published = link.publish(topic, wire.payload, {
          qos: 1,
          userProperties: { boot: info.bootId, seq: String(info.seq) },
          contentType: wire.contentType,
        });
      } finally {
        handOver();
      }
      await published;
      outbox.ack(info.id);
      this.#rejections.delete(info.id);
      this.#stats.sentBatches++;
      this.#stats.sentItems += wire.items;
      this.#stats.sentBytes += wire.payload.length;
      this.emit('sent', {
        id: info.id,
        items: wire.items,
        bytes: wire.payload.length,
        live,
        unsynced: wire.unsynced,
      });
      done(true);
    })().catch((error: unknown) => {
      this.#stats.lastError = errorMessage(error);
      if (isLinkError(error) && error.code === 'EREJECTED') {
        this.#stats.rejected++;
        const times = (this.#rejections.get(info.id) ?? 0) + 1;
        log.warn(
          { batch: info.id, reasonCode: error.reasonCode, err: error.message, times },
          'broker rejected a batch',
        );
        if (times >= MAX_REJECTIONS) {
          // One batch the broker will never take must not hold back the rest of the backlog.
          this.#rejections.delete(info.id);
          outbox.discard(info.id, `rejected: ${error.message}`);
          this.#inFlight.delete(info.id);
          this.#pump();
          return;
        }
        this.#rejections.set(info.id, times);
        this.#pausedUntilMs = this.#deps.clock.monotonicMs() + this.#opts.retryMs;
      } else if (!isLinkError(error)) {
        log.error({ batch: info.id, err: errorMessage(error) }, 'sending a batch failed');
      }
      done(false);
    });
  }

  /** One timer: wakes the pump at the earliest requested time; `dirty` restarts the backlog walk. */
  #wakeAt(dueMs: number, dirty = false): void {
    if (!this.#running) return;
    this.#wakeDirty ||= dirty;
    if (dueMs >= this.#timerDueMs) return;
    this.#timer?.cancel();
    this.#timerDueMs = dueMs;
    this.#timer = this.#deps.clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerDueMs = Number.POSITIVE_INFINITY;
        if (this.#wakeDirty) this.#backlogDirty = true;
        this.#wakeDirty = false;
        this.#pump();
      },
      Math.max(0, dueMs - this.#deps.clock.monotonicMs()),
    );
  }
}
