/**
 * Telemetry as the agent starts it (`TelemetryService.start` on `<stateDir>/telemetry`, the real
 * LevelDB store), offline, on a FakeClock, with a way to deliver everything the outbox holds the way
 * the uplink does it (lease, read, ack) — across a repair of the database, which replaces the outbox.
 */
import { silentLogger } from '../../agent/core/log.js';
import { PointTable } from '../../agent/core/points.js';
import type { TelemetryEvent } from '../../agent/telemetry/reading.js';
import { openTelemetryStore } from '../../agent/telemetry/store.js';
import { telemetrySchema } from '../../agent/telemetry/telemetry-schema.js';
import { TelemetryService } from '../../agent/telemetry/telemetry-service.js';
import { FakeClock } from './fake-clock.js';
import { type TrackedStore, trackStore } from './tracked-store.js';
import { until } from './until.js';

export const FUZZ_POINT = 'chamber.temp';

export interface Delivered {
  /** Reading values delivered (a batch read again after a repair counts once). */
  readonly values: Set<number>;
  readonly events: TelemetryEvent[];
}

export interface TelemetryHarness {
  readonly clock: FakeClock;
  readonly points: PointTable;
  readonly telemetry: TelemetryService;
  /** The stores the service opened, in order (a repair opens another). */
  readonly opened: TrackedStore[];
  /** Advances the clock in 10 ms steps, letting LevelDB's I/O finish between them. */
  run(ms: number): Promise<void>;
  /** Waits until the outbox is open (again, after a repair) and its I/O is done. */
  settle(): Promise<void>;
  /** Leases, reads and acks every batch until the outbox is empty (repairing on the way if it must). */
  deliverAll(into?: Delivered): Promise<Delivered>;
}

export async function startTelemetry(
  stateDir: string,
  config: Record<string, unknown> = {},
  clock = new FakeClock({ wallMs: Date.UTC(2026, 0, 1) }),
): Promise<TelemetryHarness> {
  const points = new PointTable({ clock });
  points.declare({ name: FUZZ_POINT, unit: 'Cel' });
  const opened: TrackedStore[] = [];
  const telemetry = new TelemetryService(
    {
      clock,
      log: silentLogger(),
      points,
      isWallClockTrusted: async () => true,
      openStore: async (...args) => {
        const tracked = trackStore(await openTelemetryStore(...args));
        opened.push(tracked);
        return tracked.store;
      },
    },
    {
      config: telemetrySchema.parse({
        commitIntervalMs: 10,
        batchMaxAgeMs: 50,
        offlineBatchMaxAgeMs: 50,
        ...config,
      }),
      stateDir,
    },
  );
  telemetry.declarePoints();
  await telemetry.start();
  const settle = async () => {
    await until(() => telemetry.outbox !== undefined, 'the telemetry outbox open', 15_000);
    await opened.at(-1)?.idle();
  };
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      await clock.advance(10);
      await settle();
    }
  };
  const deliverAll = async (into: Delivered = { values: new Set(), events: [] }) => {
    for (let round = 0; round < 6; round++) {
      await run(100); // seals what start-up recorded (events)
      const outbox = telemetry.outbox;
      if (!outbox) continue;
      for (const info of [...outbox.batches()]) {
        if (!outbox.lease(info.id)) continue;
        const batch = await outbox.read(info.id).catch(() => undefined);
        if (telemetry.outbox !== outbox) break; // corrupt: being repaired
        if (!batch) continue;
        const c = batch.content;
        if (c.kind === 'raw') for (const r of c.readings) into.values.add(r.value as number);
        if (c.kind === 'event') into.events.push(...c.events);
        outbox.ack(info.id);
      }
      await run(20);
      if (telemetry.outbox === outbox && outbox.stats().items === 0 && outbox.stats().openItems === 0)
        return into;
    }
    throw new Error(`the outbox did not empty: ${JSON.stringify(telemetry.status().queue)}`);
  };
  return { clock, points, telemetry, opened, run, settle, deliverAll };
}
