/**
 * One opening of the telemetry database and what lives on it: the store, the boot id, the wall-clock
 * trust, the outbox and (with a link) the uplink. The service opens one at start and, when LevelDB
 * reports corruption, abandons it and opens the next on the repaired (or fresh) database — with a new
 * boot id, so the batches it writes never take the `(boot, seq)` of one already sent.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Link } from '../link/types.js';
import { nextBootId } from './boot-id.js';
import { Outbox } from './outbox.js';
import { openTelemetryStore, type TelemetryStore, type TelemetryStoreOptions } from './store.js';
import type { TelemetryConfig } from './telemetry-schema.js';
import { Uplink } from './uplink.js';
import { type IsWallClockTrusted, linuxNtpSynchronized, WallClock } from './wall-clock.js';

export interface OutboxSessionDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly link?: Link | undefined;
  readonly isWallClockTrusted?: IsWallClockTrusted | undefined;
  readonly openStore?: typeof openTelemetryStore | undefined;
  /** The clock became trusted (offset wall − monotonic). */
  onTrusted(offsetMs: number): void;
  /** LevelDB reported corruption while the session ran. */
  onCorrupt(error: Error): void;
}

export interface OutboxSessionOptions {
  readonly config: TelemetryConfig;
  readonly dir: string;
  readonly recover?: TelemetryStoreOptions['recover'];
}

export interface OpenedOutbox {
  readonly batches: number;
  readonly items: number;
  readonly bytes: number;
  readonly quarantined: number;
}

export class OutboxSession {
  readonly store: TelemetryStore;
  readonly bootId: string;
  readonly wallClock: WallClock;
  readonly outbox: Outbox;
  readonly uplink: Uplink | undefined;
  readonly opened: OpenedOutbox;
  readonly #stops: (() => void)[];

  private constructor(parts: {
    store: TelemetryStore;
    bootId: string;
    wallClock: WallClock;
    outbox: Outbox;
    uplink: Uplink | undefined;
    opened: OpenedOutbox;
    stops: (() => void)[];
  }) {
    this.store = parts.store;
    this.bootId = parts.bootId;
    this.wallClock = parts.wallClock;
    this.outbox = parts.outbox;
    this.uplink = parts.uplink;
    this.opened = parts.opened;
    this.#stops = parts.stops;
  }

  /** Opens the store and everything on it; on a failure closes what it opened and throws. */
  static async open(deps: OutboxSessionDeps, options: OutboxSessionOptions): Promise<OutboxSession> {
    const { clock, log, link } = deps;
    const c = options.config;
    // LevelDB's log grows to its write buffer before it becomes a table: keep it small against the budget.
    const writeBufferBytes = Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(c.budget / 8)));
    const open = deps.openStore ?? openTelemetryStore;
    const store = await open(
      options.dir,
      { writeBufferBytes, ...(options.recover ? { recover: options.recover } : {}) },
      () => clock.nowMs(),
    );
    const wallClock = new WallClock(
      {
        clock,
        log: log.child({ mod: 'clock' }),
        meta: store.meta,
        isWallClockTrusted: deps.isWallClockTrusted ?? linuxNtpSynchronized(),
      },
      { mode: c.timeTrust, pollMs: 5000, persistEveryMs: 60_000 },
    );
    try {
      const bootId = await nextBootId(store.meta);
      await wallClock.start(bootId);
      const outbox = new Outbox(
        { clock, log: log.child({ mod: 'outbox' }), store, bootId, trust: wallClock },
        {
          commitIntervalMs: c.commitIntervalMs,
          commitMaxItems: c.commitMaxReadings,
          batchMaxAgeMs: c.batchMaxAgeMs,
          offlineBatchMaxAgeMs: c.offlineBatchMaxAgeMs,
          batchMaxItems: c.batchMaxReadings,
          budgetBytes: c.budget,
          downsampleWindowMs: c.downsampleWindowS * 1000,
        },
      );
      const opened = await outbox.open();
      await wallClock.prune(outbox.boots());
      const stops: (() => void)[] = [];
      const uplink = link ? startUplink(deps, link, outbox, wallClock, c, stops) : undefined;
      stops.push(...listen(deps, wallClock, outbox, uplink));
      return new OutboxSession({ store, bootId, wallClock, outbox, uplink, opened, stops });
    } catch (error) {
      await wallClock.stop().catch(() => undefined);
      await store.close().catch(() => undefined);
      throw error;
    }
  }

  /** Stops the uplink, writes the final group commit and closes the database. */
  async close(): Promise<void> {
    for (const stop of this.#stops.splice(0)) stop();
    await this.uplink?.stop();
    await this.outbox.close();
    await this.wallClock.stop();
    await this.store.close();
  }

  /** Closes a session whose database is corrupt: every step is tried, none of their errors matter. */
  async abandon(): Promise<void> {
    for (const stop of this.#stops.splice(0)) stop();
    await this.uplink?.stop().catch(() => undefined);
    await this.outbox.close().catch(() => undefined);
    await this.wallClock.stop().catch(() => undefined);
    await this.store.close().catch(() => undefined);
  }
}

function listen(
  deps: OutboxSessionDeps,
  wallClock: WallClock,
  outbox: Outbox,
  uplink: Uplink | undefined,
): (() => void)[] {
  const { log } = deps;
  const onTrusted = ({ offsetMs }: { offsetMs: number }) => {
    outbox.sealOpen();
    uplink?.clockTrusted();
    deps.onTrusted(offsetMs);
  };
  const onError = (e: Error) => log.error({ err: e.message }, 'telemetry write failed');
  const onCorrupt = (e: Error) => deps.onCorrupt(e);
  wallClock.on('trusted', onTrusted);
  outbox.on('error', onError);
  outbox.on('corrupt', onCorrupt);
  return [
    () => wallClock.off('trusted', onTrusted),
    () => outbox.off('error', onError),
    () => outbox.off('corrupt', onCorrupt),
  ];
}

function startUplink(
  deps: OutboxSessionDeps,
  link: Link,
  outbox: Outbox,
  wallClock: WallClock,
  c: TelemetryConfig,
  stops: (() => void)[],
): Uplink {
  outbox.setLinkUp(link.connected);
  const onUp = () => outbox.setLinkUp(true);
  const onDown = () => outbox.setLinkUp(false);
  link.on('up', onUp);
  link.on('down', onDown);
  stops.push(
    () => link.off('up', onUp),
    () => link.off('down', onDown),
  );
  const uplink = new Uplink(
    { clock: deps.clock, log: deps.log.child({ mod: 'uplink' }), outbox, link, wallClock },
    {
      inFlightMax: c.inFlight,
      drainReadingsPerS: c.drainReadingsPerS,
      drainBurstReadings: c.drainBurstReadings,
      trustWaitMs: c.trustWaitS * 1000,
      retryMs: 10_000,
    },
  );
  uplink.start();
  return uplink;
}
