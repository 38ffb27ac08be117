/**
 * Telemetry, assembled: observes the point table, runs each point's filter, feeds the durable outbox,
 * and (when there is a link) drives the uplink. Also turns point quality changes and whatever the
 * composition root reports (alarms) into events, keeps the wall-clock trust, and publishes its own
 * health as `telemetry.*` / `link.*` points. `stop()` ends with the outbox's final group commit, so
 * every reading accepted before SIGTERM is on disk when the process exits.
 *
 * At start it also records the current value of every point that already has one (the first poll ran
 * while the database opened); later changes arrive through the subscription. Corruption LevelDB
 * reports — at open, in the start-up scan, in a read or a write while running — is repaired (or the
 * database moved aside, store-recovery.ts) and the outbox reopened on it, reported as the
 * `telemetry.recovered` event; what arrives meanwhile is held and appended once it is open again.
 */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PointSnapshot, PointTable } from '../core/points.js';
import type { Link } from '../link/types.js';
import { type FilterOutput, PointFilter } from './filters.js';
import type { Outbox, OutboxStats } from './outbox.js';
import { OutboxSession } from './outbox-session.js';
import type { TelemetryEvent } from './reading.js';
import { filterOptionsFor, reportsPoint } from './reporting-filters.js';
import type { openTelemetryStore } from './store.js';
import { telemetryDirIn } from './store-lock.js';
import { isCorruption, rootMessage } from './store-recovery.js';
import { declareTelemetryMetrics, publishTelemetryMetrics } from './telemetry-metrics.js';
import type { TelemetryConfig } from './telemetry-schema.js';
import type { UplinkStats } from './uplink.js';
import type { IsWallClockTrusted } from './wall-clock.js';

export interface TelemetryServiceDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly points: PointTable;
  /** The shared MQTT session; undefined: offline, only buffer. Its owner starts and stops it. */
  readonly link?: Link | undefined;
  /** Seam for "is NTP synced" (default: timedatectl on Linux). */
  readonly isWallClockTrusted?: IsWallClockTrusted | undefined;
  /** Seam for opening the LevelDB store (default: `openTelemetryStore`); tests watch its I/O. */
  readonly openStore?: typeof openTelemetryStore | undefined;
}

export interface TelemetryServiceOptions {
  readonly config: TelemetryConfig;
  /** The state directory; the outbox lives in `<stateDir>/<config.dir>`. */
  readonly stateDir: string;
}

export interface TelemetryStatus {
  readonly boot: string;
  readonly clockTrusted: boolean;
  readonly queue: Pick<
    OutboxStats,
    'batches' | 'items' | 'bytes' | 'budgetBytes' | 'oldestAgeS' | 'openItems' | 'staged'
  >;
  readonly drops: OutboxStats['dropped'] & { readonly total: number };
  readonly downsampled: number;
  readonly quarantined: number;
  readonly writeFailed: number;
  readonly link: ReturnType<Link['status']> | { readonly state: 'not configured' };
  readonly uplink: UplinkStats | undefined;
}

const FILTER_POLL_MS = 250;
/** Appends held while the database is being repaired; beyond this the oldest are counted as failed. */
const HELD_MAX = 10_000;

type Append = (outbox: Outbox) => Promise<void>;

/** Corruption found after the first open, for the `telemetry.recovered` event. */
interface Found {
  readonly error: unknown;
  /** Items the outbox held before (what a reset loses; a repair loses the difference). */
  readonly itemsBefore: number;
}

export class TelemetryService {
  readonly #deps: TelemetryServiceDeps;
  readonly #config: TelemetryConfig;
  readonly #dir: string;
  readonly #included: (name: string) => boolean;
  readonly #filters = new Map<string, PointFilter>();
  readonly #polled = new Set<PointFilter>();
  readonly #stops: (() => void)[] = [];
  #session: OutboxSession | undefined;
  #recovering: Promise<void> | undefined;
  #held: Append[] = [];
  #lastAppend: Promise<void> | undefined;
  #appendFailures = 0;

  constructor(deps: TelemetryServiceDeps, options: TelemetryServiceOptions) {
    this.#deps = deps;
    this.#config = options.config;
    this.#dir = telemetryDirIn(options.stateDir, options.config);
    this.#included = reportsPoint(options.config);
  }

  /** The boot id (known after `start`). */
  get bootId(): string {
    return this.#session?.bootId ?? '';
  }

  /** The database directory (`telemetry.dir` under the state directory). */
  get dir(): string {
    return this.#dir;
  }

  get outbox(): Outbox | undefined {
    return this.#session?.outbox;
  }

  declarePoints(): void {
    declareTelemetryMetrics(this.#deps.points);
  }

  async start(): Promise<void> {
    const { clock, points } = this.#deps;
    this.#session = await this.#openSession(undefined);
    this.#stops.push(points.subscribe('*', (p, prev) => this.#onPoint(p, prev)));
    // Synchronously after subscribing: a value in the table now is not also delivered as a change.
    for (const p of points.list()) this.#seed(p);
    const poll = clock.setInterval(() => this.#pollFilters(), FILTER_POLL_MS);
    const metrics = clock.setInterval(() => this.#publishMetrics(), this.#config.metricsPeriodMs);
    this.#stops.push(
      () => poll.cancel(),
      () => metrics.cancel(),
    );
    this.#publishMetrics();
  }

  /** Stops observing, stops the uplink, writes the final group commit and closes the database. */
  async stop(): Promise<void> {
    for (const stop of this.#stops.splice(0)) stop();
    await this.#recovering;
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
  }

  /**
   * Opens the database and the outbox on it. Corruption found on the way (the start-up scan, a meta
   * read) or before (`found`, while running) is repaired; if it is found again the database is moved
   * aside. Anything else (the lock, permissions, a full disk) is thrown.
   */
  async #openSession(found: Found | undefined): Promise<OutboxSession> {
    const { clock, log, link, isWallClockTrusted, openStore } = this.#deps;
    const deps = {
      clock,
      log,
      link,
      isWallClockTrusted,
      openStore,
      onTrusted: (offsetMs: number) => this.recordEvent('clock.trusted', { offsetMs }),
      onCorrupt: (error: Error) => this.#recover(error),
    };
    let recover: { how: 'repair' | 'reset'; error: string } | undefined = found
      ? { how: 'repair', error: rootMessage(found.error) }
      : undefined;
    for (;;) {
      try {
        const session = await OutboxSession.open(deps, { config: this.#config, dir: this.#dir, recover });
        this.#session = session;
        this.#opened(session, found);
        return session;
      } catch (error) {
        if (!isCorruption(error) || recover?.how === 'reset') throw error;
        recover = { how: recover ? 'reset' : 'repair', error: rootMessage(error) };
        log.error({ dir: this.#dir, err: recover.error }, 'telemetry database corrupt');
      }
    }
  }

  /** Logs the open, and reports what a corrupt database cost and what was set aside. */
  #opened(session: OutboxSession, found: Found | undefined): void {
    const { log } = this.#deps;
    const { opened, store, bootId, wallClock } = session;
    log.info(
      { boot: bootId, dir: this.#dir, ...opened, clockTrusted: wallClock.trusted },
      'telemetry outbox open',
    );
    const recovered = store.recovered;
    if (recovered) {
      const lost = found ? Math.max(0, found.itemsBefore - opened.items) : undefined;
      log.error({ dir: this.#dir, ...recovered, lost }, 'telemetry database was corrupt');
      this.recordEvent('telemetry.recovered', {
        how: recovered.how,
        during: found ? 'operation' : 'start',
        error: recovered.error,
        ...(recovered.movedTo ? { movedTo: recovered.movedTo } : {}),
        ...(lost !== undefined ? { lost } : {}),
      });
    }
    if (opened.quarantined > 0) this.recordEvent('telemetry.quarantine', { records: opened.quarantined });
  }

  /** LevelDB reported corruption while running: reopen on the repaired database, then append what waited. */
  #recover(error: Error): void {
    const old = this.#session;
    if (!old || this.#recovering) return;
    this.#session = undefined;
    const { log } = this.#deps;
    log.error({ dir: this.#dir, err: rootMessage(error) }, 'telemetry database corrupt: repairing');
    this.#recovering = (async () => {
      const itemsBefore = old.outbox.stats().items;
      await old.abandon();
      try {
        await this.#openSession({ error, itemsBefore });
      } catch (failed) {
        log.error(
          { dir: this.#dir, err: errorMessage(failed) },
          'telemetry database lost: readings not stored',
        );
      }
    })().finally(() => {
      this.#recovering = undefined;
      const held = this.#held.splice(0);
      const outbox = this.#session?.outbox;
      if (outbox) for (const append of held) this.#track(append(outbox));
      else this.#appendFailures += held.length;
    });
  }

  /** An event for `edge/<id>/events` (alarms, state changes). Durable like readings. */
  recordEvent(type: string, data: TelemetryEvent['data']): void {
    const { clock } = this.#deps;
    const event = { type, data, wallMs: clock.nowMs(), monoMs: clock.monotonicMs() };
    this.#append((outbox) => outbox.appendEvent(event));
  }

  status(): TelemetryStatus {
    const s = this.#session?.outbox.stats();
    const { link } = this.#deps;
    const dropped = s?.dropped ?? { low: 0, normal: 0, high: 0 };
    return {
      boot: this.bootId,
      clockTrusted: this.#session?.wallClock.trusted ?? false,
      queue: {
        batches: s?.batches ?? 0,
        items: s?.items ?? 0,
        bytes: s?.bytes ?? 0,
        budgetBytes: s?.budgetBytes ?? 0,
        oldestAgeS: s?.oldestAgeS ?? 0,
        openItems: s?.openItems ?? 0,
        staged: s?.staged ?? 0,
      },
      drops: { ...dropped, total: dropped.low + dropped.normal + dropped.high },
      downsampled: s?.downsampled ?? 0,
      quarantined: s?.quarantined ?? 0,
      writeFailed: (s?.writeFailed ?? 0) + this.#appendFailures,
      link: link ? link.status() : { state: 'not configured' },
      uplink: this.#session?.uplink?.stats(),
    };
  }

  /** A point's value from before the subscription, with its own time, as if it had just arrived. */
  #seed(p: PointSnapshot): void {
    if (!this.#included(p.name) || p.value === undefined || p.quality !== 'good') return;
    const filter = this.#filterFor(p.name);
    this.#emit(p, filter.offer({ value: p.value, wallMs: p.wallMs, monoMs: p.monoMs }));
  }

  #onPoint(p: PointSnapshot, prev: PointSnapshot): void {
    if (!this.#included(p.name)) return;
    const filter = this.#filterFor(p.name);
    if (p.quality !== prev.quality && prev.value !== undefined) {
      this.recordEvent('point.quality', { point: p.name, quality: p.quality, previous: prev.quality });
      if (p.quality !== 'good') filter.invalidate();
    }
    // A sample is an update (new time or value); a quality or force change alone is not.
    const sample = p.monoMs !== prev.monoMs || p.value !== prev.value;
    if (p.value === undefined || p.quality !== 'good' || !sample) return;
    this.#emit(p, filter.offer({ value: p.value, wallMs: p.wallMs, monoMs: p.monoMs }));
  }

  #pollFilters(): void {
    const { clock, points } = this.#deps;
    const wallMs = clock.nowMs();
    const monoMs = clock.monotonicMs();
    for (const [name, filter] of this.#filters) {
      if (!this.#polled.has(filter)) continue;
      const out = filter.poll(wallMs, monoMs);
      if (out.length === 0) continue;
      const p = points.get(name);
      if (p) this.#emit(p, out);
    }
  }

  #emit(p: PointSnapshot, outputs: FilterOutput[]): void {
    for (const o of outputs) {
      if (o.kind === 'reading') {
        const reading = {
          name: p.name,
          unit: p.unit,
          value: o.value,
          wallMs: o.wallMs,
          monoMs: o.monoMs,
          priority: o.priority,
        };
        this.#append((outbox) => outbox.appendReading(reading));
      } else {
        const aggregate = { name: p.name, unit: p.unit, ...o };
        this.#append((outbox) => outbox.appendAggregate(aggregate));
      }
    }
  }

  /** Appends now, or holds the append while the database is being repaired. */
  #append(append: Append): void {
    const outbox = this.#session?.outbox;
    if (outbox) {
      this.#track(append(outbox));
      return;
    }
    if (!this.#recovering) return;
    this.#held.push(append);
    if (this.#held.length > HELD_MAX) {
      this.#held.shift();
      this.#appendFailures++;
    }
  }

  /** One failure handler per group commit, not per reading (they all share the commit's promise). */
  #track(promise: Promise<void>): void {
    if (promise === this.#lastAppend) return;
    this.#lastAppend = promise;
    promise.catch((error: unknown) => {
      this.#appendFailures++;
      this.#deps.log.debug({ err: errorMessage(error) }, 'telemetry append failed');
    });
  }

  #filterFor(name: string): PointFilter {
    let f = this.#filters.get(name);
    if (!f) {
      const options = filterOptionsFor(this.#config, name);
      f = new PointFilter(options);
      this.#filters.set(name, f);
      if (options.pmin || options.pmax || options.aggregate) this.#polled.add(f);
    }
    return f;
  }

  #publishMetrics(): void {
    const s = this.#session?.outbox.stats();
    if (!s) return;
    publishTelemetryMetrics(this.#deps.points, {
      depth: s.items,
      batches: s.batches,
      bytes: s.bytes,
      oldestAgeS: s.oldestAgeS,
      drops: s.dropped.low + s.dropped.normal + s.dropped.high,
      downsampled: s.downsampled,
      quarantined: s.quarantined,
      clockTrusted: this.#session?.wallClock.trusted ?? false,
      linkConnected: this.#deps.link?.connected ?? false,
    });
  }
}
