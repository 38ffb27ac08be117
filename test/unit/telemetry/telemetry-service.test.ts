/**
 * Telemetry as the agent wires it, offline (no link): point updates → filters → outbox, events for
 * quality changes, the telemetry.* metric points, the `telemetry` command, and the final group commit
 * on stop.
 */
import { describe, expect, it } from 'vitest';
import { CommandRegistry } from '../../../agent/commands/registry.js';
import { registerTelemetryCommands } from '../../../agent/commands/telemetry-commands.js';
import { silentLogger } from '../../../agent/core/log.js';
import { PointTable } from '../../../agent/core/points.js';
import type { Outbox } from '../../../agent/telemetry/outbox.js';
import { openTelemetryStore } from '../../../agent/telemetry/store.js';
import type { PartContent } from '../../../agent/telemetry/stored-batch.js';
import { telemetrySchema } from '../../../agent/telemetry/telemetry-schema.js';
import { TelemetryService } from '../../../agent/telemetry/telemetry-service.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';
import { type TrackedStore, trackStore } from '../../support/tracked-store.js';

const tempDir = tempDirs('edge-telemetry-svc-');

/** `beforeStart` runs on the point table before telemetry starts (the agent's first poll). */
async function setup(
  config: Record<string, unknown> = {},
  stateDir?: string,
  beforeStart?: (points: PointTable, clock: FakeClock) => Promise<void>,
) {
  const clock = new FakeClock();
  const points = new PointTable({ clock });
  points.declare({ name: 'chamber.temp', unit: 'Cel' });
  points.declare({ name: 'door.state' });
  await beforeStart?.(points, clock);
  const dir = stateDir ?? (await tempDir());
  let tracked: TrackedStore | undefined;
  const telemetry = new TelemetryService(
    {
      clock,
      log: silentLogger(),
      points,
      isWallClockTrusted: async () => true,
      openStore: async (...args) => {
        tracked = trackStore(await openTelemetryStore(...args));
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
      stateDir: dir,
    },
  );
  telemetry.declarePoints();
  await telemetry.start();
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      await clock.advance(10);
      // Between fake-clock steps, LevelDB's I/O (and the point filters' async work) completes.
      await tracked?.idle();
    }
  };
  return { clock, points, telemetry, run, dir };
}

async function contents(outbox: Outbox): Promise<PartContent[]> {
  const out: PartContent[] = [];
  for (const info of [...outbox.batches()]) {
    if (!outbox.lease(info.id)) continue;
    const b = await outbox.read(info.id);
    outbox.release(info.id);
    if (b) out.push(b.content);
  }
  return out;
}

describe('TelemetryService', () => {
  it('stores point updates through their filters, but not its own metric points', async () => {
    const h = await setup({ points: { 'chamber.temp': { st: 0.5 } } });
    for (const v of [20, 20.1, 20.2, 20.6, 21.2]) {
      h.points.update('chamber.temp', v, 'test');
      await h.run(10);
    }
    await h.run(1100); // metrics published meanwhile
    const all = await contents(h.telemetry.outbox as Outbox);
    const readings = all.flatMap((c) => (c.kind === 'raw' ? c.readings : []));
    expect(readings.map((r) => [r.name, r.value, r.unit])).toEqual([
      ['chamber.temp', 20, 'Cel'],
      ['chamber.temp', 20.6, 'Cel'],
      ['chamber.temp', 21.2, 'Cel'],
    ]);
    expect(h.points.get('telemetry.depth')?.value).toBe(3);
    expect(h.points.get('telemetry.clockTrusted')?.value).toBe(true);
    expect(h.points.get('link.connected')?.value).toBe(false);
    await h.telemetry.stop();
  });

  it('records a quality change of a point as an event', async () => {
    const h = await setup();
    h.points.update('door.state', false, 'test');
    h.points.setQuality('door.state', 'fault');
    await h.run(100);
    const events = (await contents(h.telemetry.outbox as Outbox)).flatMap((c) =>
      c.kind === 'event' ? c.events : [],
    );
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['point.quality', { point: 'door.state', quality: 'fault', previous: 'good' }],
    ]);
    await h.telemetry.stop();
  });

  it('records the values points had before it started, with their own times, once (issue 20 pt 15)', async () => {
    let polledAt = { wallMs: 0, monoMs: 0 };
    const h = await setup({}, undefined, async (points, clock) => {
      points.update('chamber.temp', 21.5, 'test');
      points.update('door.state', true, 'test');
      polledAt = { wallMs: clock.nowMs(), monoMs: clock.monotonicMs() };
      await clock.advance(500); // the database opens meanwhile
    });
    await h.run(100);
    h.points.update('chamber.temp', 22, 'test');
    await h.run(100);
    const readings = (await contents(h.telemetry.outbox as Outbox)).flatMap((c) =>
      c.kind === 'raw' ? c.readings : [],
    );
    expect(readings.map((r) => [r.name, r.value])).toEqual([
      ['chamber.temp', 21.5],
      ['door.state', true],
      ['chamber.temp', 22],
    ]);
    expect(readings[0]).toMatchObject(polledAt);
    expect(readings[1]).toMatchObject(polledAt);
    await h.telemetry.stop();
  });

  it('answers the telemetry command with queue, link, uplink and drops', async () => {
    const h = await setup();
    const registry = new CommandRegistry();
    registerTelemetryCommands(registry, { telemetry: h.telemetry });
    h.points.update('chamber.temp', 20, 'test');
    await h.run(100);
    const result = await registry.execute('telemetry', {}, { via: 'test', who: 't' });
    expect(result).toMatchObject({
      ok: true,
      result: {
        clockTrusted: true,
        queue: { batches: 1, items: 1, budgetBytes: 64 * 1024 * 1024 },
        drops: { low: 0, normal: 0, high: 0, total: 0 },
        link: { state: 'not configured' },
        quarantined: 0,
      },
    });
    await h.telemetry.stop();
  });

  it('writes what it accepted before stop, without waiting for the commit interval', async () => {
    const h = await setup({ commitIntervalMs: 1000 });
    h.points.update('chamber.temp', 42, 'test');
    await h.telemetry.stop();
    const again = await setup({}, h.dir);
    const readings = (await contents(again.telemetry.outbox as Outbox)).flatMap((c) =>
      c.kind === 'raw' ? c.readings : [],
    );
    expect(readings.map((r) => r.value)).toEqual([42]);
    await again.telemetry.stop();
  });
});

describe('telemetry configuration', () => {
  it.each([
    [65536, 65536],
    ['64MiB', 64 * 1024 * 1024],
    ['500MB', 500_000_000],
    ['1.5GiB', 1.5 * 1024 ** 3],
  ])('reads a budget of %j as %d bytes', (budget, bytes) => {
    expect(telemetrySchema.parse({ budget }).budget).toBe(bytes);
  });

  it.each([['64 parsecs'], [-1], ['1KiB']])('rejects a budget of %j', (budget) => {
    expect(telemetrySchema.safeParse({ budget }).success).toBe(false);
  });

  it('sends every point but its own metrics by default', () => {
    const c = telemetrySchema.parse(undefined);
    expect([c.include, c.exclude]).toEqual([['*'], ['telemetry.*', 'link.*']]);
    expect(c.commitIntervalMs).toBeLessThanOrEqual(100);
  });
});
