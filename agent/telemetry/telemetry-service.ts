/**
 * Telemetry, assembled: observes the point table, runs each point's filter, feeds the durable outbox,
 * and (when there is a link) drives the uplink. Also turns point quality changes and whatever the
 * composition root reports (alarms) into events, keeps the wall-clock trust, and publishes its own
 * health as `telemetry.*` / `link.*` points. `stop()` ends with the outbox's final group commit, so
 * every reading accepted before SIGTERM is on disk when the process exits.
 */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PointSnapshot, PointTable } from '../core/points.js';
import type { Link } from '../link/types.js';
import { nextBootId } from './boot-id.js';
import { type FilterOutput, PointFilter } from './filters.js';
import { Outbox, type OutboxStats } from './outbox.js';
import type { TelemetryEvent } from './reading.js';
import { filterOptionsFor, reportsPoint } from './reporting-filters.js';
import { openTelemetryStore, type TelemetryStore } from './store.js';
import { telemetryDirIn } from './store-lock.js';
import { declareTelemetryMetrics, publishTelemetryMetrics } from './telemetry-metrics.js';
import type { TelemetryConfig } from './telemetry-schema.js';
import { Uplink, type UplinkStats } from './uplink.js';
import { type IsWallClockTrusted, linuxNtpSynchronized, WallClock } from './wall-clock.js';

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
    'batches' | 'items' | 'bytes' | 'budgetBytes' | 'oldestAgeS' | 'openItems'
  >;
  readonly drops: OutboxStats['dropped'] & { readonly total: number };
  readonly downsampled: number;
  readonly quarantined: number;
  readonly writeFailed: number;
  readonly link: ReturnType<Link['status']> | { readonly state: 'not configured' };
  readonly uplink: UplinkStats | undefined;
}

const FILTER_POLL_MS = 250;

export class TelemetryService {
  readonly #deps: TelemetryServiceDeps;
  readonly #config: TelemetryConfig;
  readonly #dir: string;
  readonly #included: (name: string) => boolean;
  readonly #filters = new Map<string, PointFilter>();
  readonly #polled = new Set<PointFilter>();
  readonly #stops: (() => void)[] = [];
  #store: TelemetryStore | undefined;
  #outbox: Outbox | undefined;
  #wallClock: WallClock | undefined;
  #uplink: Uplink | undefined;
  #bootId = '';
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
    return this.#bootId;
  }

  /** The database directory (`telemetry.dir` under the state directory). */
  get dir(): string {
    return this.#dir;
  }

  get outbox(): Outbox | undefined {
    return this.#outbox;
  }

  declarePoints(): void {
    declareTelemetryMetrics(this.#deps.points);
  }

  async start(): Promise<void> {
    const { clock, log, points, link } = this.#deps;
    const c = this.#config;
    const budgetBytes = c.budget;
    // LevelDB's log grows to its write buffer before it becomes a table: keep it small against the budget.
    const writeBufferBytes = Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(budgetBytes / 8)));
    const open = this.#deps.openStore ?? openTelemetryStore;
    const store = await open(this.#dir, { writeBufferBytes }, () => clock.nowMs());
    this.#store = store;
    if (store.recovered)
      log.error({ dir: this.#dir, recovered: store.recovered }, 'telemetry database was corrupt');
    this.#bootId = await nextBootId(store.meta);
    const wallClock = new WallClock(
      {
        clock,
        log: log.child({ mod: 'clock' }),
        meta: store.meta,
        isWallClockTrusted: this.#deps.isWallClockTrusted ?? linuxNtpSynchronized(),
      },
      { mode: c.timeTrust, pollMs: 5000, persistEveryMs: 60_000 },
    );
    this.#wallClock = wallClock;
    await wallClock.start(this.#bootId);
    const outbox = new Outbox(
      { clock, log: log.child({ mod: 'outbox' }), store, bootId: this.#bootId, trust: wallClock },
      {
        commitIntervalMs: c.commitIntervalMs,
        commitMaxItems: c.commitMaxReadings,
        batchMaxAgeMs: c.batchMaxAgeMs,
        offlineBatchMaxAgeMs: c.offlineBatchMaxAgeMs,
        batchMaxItems: c.batchMaxReadings,
        budgetBytes,
        downsampleWindowMs: c.downsampleWindowS * 1000,
      },
    );
    const opened = await outbox.open();
    this.#outbox = outbox;
    await wallClock.prune(outbox.boots());
    log.info(
      { boot: this.#bootId, dir: this.#dir, ...opened, clockTrusted: wallClock.trusted },
      'telemetry outbox open',
    );
    if (store.recovered) this.recordEvent('telemetry.recovered', { how: store.recovered });
    if (opened.quarantined > 0) this.recordEvent('telemetry.quarantine', { records: opened.quarantined });

    const onTrusted = ({ offsetMs }: { offsetMs: number }) => {
      outbox.sealOpen();
      this.#uplink?.clockTrusted();
      this.recordEvent('clock.trusted', { offsetMs });
    };
    wallClock.on('trusted', onTrusted);
    this.#stops.push(() => wallClock.off('trusted', onTrusted));
    const onError = (e: Error) => log.error({ err: e.message }, 'telemetry write failed');
    outbox.on('error', onError);
    this.#stops.push(() => outbox.off('error', onError));

    if (link) {
      outbox.setLinkUp(link.connected);
      const onUp = () => outbox.setLinkUp(true);
      const onDown = () => outbox.setLinkUp(false);
      link.on('up', onUp);
      link.on('down', onDown);
      this.#stops.push(
        () => link.off('up', onUp),
        () => link.off('down', onDown),
      );
      const uplink = new Uplink(
        { clock, log: log.child({ mod: 'uplink' }), outbox, link, wallClock },
        {
          inFlightMax: c.inFlight,
          drainReadingsPerS: c.drainReadingsPerS,
          drainBurstReadings: c.drainBurstReadings,
          trustWaitMs: c.trustWaitS * 1000,
          retryMs: 10_000,
        },
      );
      this.#uplink = uplink;
      uplink.start();
    }

    this.#stops.push(points.subscribe('*', (p, prev) => this.#onPoint(p, prev)));
    const poll = clock.setInterval(() => this.#pollFilters(), FILTER_POLL_MS);
    const metrics = clock.setInterval(() => this.#publishMetrics(), c.metricsPeriodMs);
    this.#stops.push(
      () => poll.cancel(),
      () => metrics.cancel(),
    );
    this.#publishMetrics();
  }

  /** Stops observing, stops the uplink, writes the final group commit and closes the database. */
  async stop(): Promise<void> {
    for (const stop of this.#stops.splice(0)) stop();
    await this.#uplink?.stop();
    await this.#outbox?.close();
    await this.#wallClock?.stop();
    await this.#store?.close();
    this.#outbox = undefined;
    this.#store = undefined;
  }

  /** An event for `edge/<id>/events` (alarms, state changes). Durable like readings. */
  recordEvent(type: string, data: TelemetryEvent['data']): void {
    const outbox = this.#outbox;
    if (!outbox) return;
    const { clock } = this.#deps;
    this.#track(outbox.appendEvent({ type, data, wallMs: clock.nowMs(), monoMs: clock.monotonicMs() }));
  }

  status(): TelemetryStatus {
    const s = this.#outbox?.stats();
    const { link } = this.#deps;
    const dropped = s?.dropped ?? { low: 0, normal: 0, high: 0 };
    return {
      boot: this.#bootId,
      clockTrusted: this.#wallClock?.trusted ?? false,
      queue: {
        batches: s?.batches ?? 0,
        items: s?.items ?? 0,
        bytes: s?.bytes ?? 0,
        budgetBytes: s?.budgetBytes ?? 0,
        oldestAgeS: s?.oldestAgeS ?? 0,
        openItems: s?.openItems ?? 0,
      },
      drops: { ...dropped, total: dropped.low + dropped.normal + dropped.high },
      downsampled: s?.downsampled ?? 0,
      quarantined: s?.quarantined ?? 0,
      writeFailed: (s?.writeFailed ?? 0) + this.#appendFailures,
      link: link ? link.status() : { state: 'not configured' },
      uplink: this.#uplink?.stats(),
    };
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
    const outbox = this.#outbox;
    if (!outbox) return;
    for (const o of outputs) {
      if (o.kind === 'reading') {
        this.#track(
          outbox.appendReading({
            name: p.name,
            unit: p.unit,
            value: o.value,
            wallMs: o.wallMs,
            monoMs: o.monoMs,
            priority: o.priority,
          }),
        );
      } else {
        this.#track(outbox.appendAggregate({ name: p.name, unit: p.unit, ...o }));
      }
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
    const s = this.#outbox?.stats();
    if (!s) return;
    publishTelemetryMetrics(this.#deps.points, {
      depth: s.items,
      batches: s.batches,
      bytes: s.bytes,
      oldestAgeS: s.oldestAgeS,
      drops: s.dropped.low + s.dropped.normal + s.dropped.high,
      downsampled: s.downsampled,
      quarantined: s.quarantined,
      clockTrusted: this.#wallClock?.trusted ?? false,
      linkConnected: this.#deps.link?.connected ?? false,
    });
  }
}
