/**
 * A long outage against a real mosquitto: while the broker is away the outbox stays within its byte
 * budget — old numeric readings downsampled, low-priority ones dropped — and when the broker returns
 * the backlog drains with the drop reports on `edge/<id>/events`, and every produced reading is
 * accounted for (delivered raw, inside a delivered aggregate, or counted as dropped). A record
 * corrupted on disk is quarantined at start and reported, and the rest is delivered.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { PointTable } from '../../../agent/core/points.js';
import { MqttLink } from '../../../agent/link/mqtt-link.js';
import { openTelemetryStore } from '../../../agent/telemetry/store.js';
import { telemetrySchema } from '../../../agent/telemetry/telemetry-schema.js';
import { TelemetryService } from '../../../agent/telemetry/telemetry-service.js';
import { cleanupsAfterEach } from '../../support/cleanups.js';
import { Mosquitto } from '../../support/mosquitto.js';
import { describeWithTools } from '../../support/system-tools.js';
import { TelemetryBackend } from '../../support/telemetry-backend.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-outage-it-');
const cleanups = cleanupsAfterEach();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes under `dir`. LevelDB deletes tables as it compacts: one gone since the listing counts 0. */
async function du(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await du(p);
    else total += (await stat(p).catch(gone))?.size ?? 0;
  }
  return total;
}

function gone(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined;
  throw error;
}

async function startAgent(url: string, deviceId: string, stateDir: string, config: Record<string, unknown>) {
  const clock = new SystemClock();
  const log = silentLogger();
  const points = new PointTable({ clock });
  points.declare({ name: 'load.seq', unit: 'count' });
  points.declare({ name: 'load.tag' });
  const link = new MqttLink(
    { clock, log },
    {
      url,
      deviceId,
      topicPrefix: 'edge',
      keepaliveS: 5,
      connectTimeoutMs: 2000,
      backoff: { baseMs: 50, maxMs: 200 },
    },
  );
  const telemetry = new TelemetryService(
    { clock, log, points, link },
    { config: telemetrySchema.parse({ timeTrust: 'system', ...config }), stateDir },
  );
  telemetry.declarePoints();
  await telemetry.start();
  link.start();
  const stop = async () => {
    await telemetry.stop();
    await link.stop();
  };
  cleanups.add('telemetry.stop, link.stop', stop);
  return { points, telemetry, stop };
}

describeWithTools(['mosquitto'], 'telemetry through an outage', () => {
  it('holds the disk budget during a long outage, reports every drop, and accounts for every reading', async () => {
    // A persistent broker: the backend's session (its subscriptions) outlives the outage.
    const broker = await Mosquitto.start({ persistence: true });
    cleanups.add('broker.stop', () => broker.stop());
    const backend = await TelemetryBackend.connect(broker.url, { clientId: 'backend-outage' });
    cleanups.add('backend.close', () => backend.close());
    await broker.pause('SIGTERM'); // the outage starts before the agent does
    const stateDir = await tempDir();
    const budgetBytes = 256 * 1024;
    const { points, telemetry } = await startAgent(broker.url, 'gw-outage', stateDir, {
      budget: budgetBytes,
      downsampleWindowS: 1,
      commitIntervalMs: 20,
      commitMaxReadings: 2000,
      batchMaxReadings: 500,
      points: { 'load.tag': { priority: 'low' } },
    });

    const total = 60_000;
    const step = 500;
    let maxBytes = 0;
    for (let i = 0; i < total; i++) {
      points.update('load.seq', i, 'test'); // numeric, normal: downsampled first
      points.update('load.tag', `t${i}`, 'test'); // text, low: cannot be averaged, dropped first
      if (i % step === step - 1) {
        // Like a sensor, not a flood: each step waits for its group commit, however slow the
        // machine, so the bound below does not depend on how fast the disk keeps up with the loop.
        await until(() => telemetry.status().queue.staged === 0, 'the group commit', 15_000);
        maxBytes = Math.max(maxBytes, telemetry.status().queue.bytes);
      }
    }
    // Eviction follows the next group commit: wait for it (a loaded machine may take a while).
    await until(
      () => telemetry.status().queue.bytes <= budgetBytes,
      'eviction to the budget',
      15_000,
      () => telemetry.status(),
    );
    const during = telemetry.status();
    maxBytes = Math.max(maxBytes, during.queue.bytes);
    // Enforced after every group commit: above it sit at most the readings of the step being
    // committed and of the one before (~11 bytes each on disk: ~25 KiB), until the next eviction.
    expect(maxBytes).toBeLessThan(budgetBytes * 1.25);
    expect(during.queue.bytes).toBeLessThanOrEqual(budgetBytes);
    expect(during.drops.low).toBeGreaterThan(0);
    expect(during.downsampled).toBeGreaterThan(0);
    // On disk: the budget plus LevelDB's log and not yet compacted tables (a bounded overhead).
    expect(await du(path.join(stateDir, 'telemetry'))).toBeLessThan(budgetBytes * 6);

    await broker.resume();
    await until(
      () => telemetry.status().queue.items === 0 && telemetry.status().queue.openItems === 0,
      'the backlog to drain',
      60_000,
      () => telemetry.status(),
    );
    const after = telemetry.status();
    // Every drop is reported on the events topic, and the reports add up to the counters.
    const eventSum = (type: string, field: string) =>
      backend.events.filter((e) => e.type === type).reduce((n, e) => n + (e[field] as number), 0);
    await until(
      () =>
        eventSum('telemetry.drop', 'items') >= after.drops.total &&
        eventSum('telemetry.downsample', 'readings') >= after.downsampled,
      'the drop and downsample events at the backend',
      15_000,
    );
    expect(backend.invalid).toEqual([]);
    const drops = backend.events.filter((e) => e.type === 'telemetry.drop');
    expect(drops.length).toBeGreaterThan(0);
    expect(drops.reduce((n, e) => n + (e.items as number), 0)).toBe(after.drops.total);
    expect(drops.at(-1)).toMatchObject({ reason: 'budget', totalDropped: after.drops.total });
    const downsamples = backend.events.filter((e) => e.type === 'telemetry.downsample');
    expect(downsamples.reduce((n, e) => n + (e.readings as number), 0)).toBe(after.downsampled);

    // Accounting: every reading of load.seq arrived raw or inside an aggregate's count; of load.tag
    // every reading arrived or was counted as dropped.
    const name = (p: string) => `urn:dev:gw-outage:${p}`;
    const rawSeq = backend.readings.filter((r) => r.n === name('load.seq')).length;
    const aggregated = backend.readings
      .filter((r) => r.n === name('load.seq/count'))
      .reduce((n, r) => n + (r.v as number), 0);
    expect(rawSeq + aggregated + after.drops.normal).toBe(total);
    const tags = backend.readings.filter((r) => r.n === name('load.tag')).length;
    expect(tags + after.drops.low).toBe(total);
    // Aggregates are real statistics of the readings they replace.
    const mean = backend.readings.find((r) => r.n === name('load.seq/mean'));
    const min = backend.readings.find((r) => r.n === name('load.seq/min') && r.t === mean?.t);
    const max = backend.readings.find((r) => r.n === name('load.seq/max') && r.t === mean?.t);
    expect((min?.v as number) <= (mean?.v as number) && (mean?.v as number) <= (max?.v as number)).toBe(true);
  }, 60_000);

  it('quarantines a record corrupted on disk at start, reports it, and delivers the rest', async () => {
    const broker = await Mosquitto.start();
    cleanups.add('broker.stop', () => broker.stop());
    const stateDir = await tempDir();
    await broker.pause();
    const first = await startAgent(broker.url, 'gw-corrupt', stateDir, { batchMaxReadings: 10 });
    for (let i = 0; i < 30; i++) first.points.update('load.seq', i, 'test');
    await sleep(100);
    await first.stop();

    // Bit rot in one stored record.
    const store = await openTelemetryStore(path.join(stateDir, 'telemetry'));
    const keys: string[] = [];
    for await (const key of store.batches.keys()) keys.push(key);
    expect(keys.length).toBe(3);
    await store.batches.put(keys[1] as string, new Uint8Array([0xbf, 0x61, 0x76, 0x01, 0x1c]));
    await store.close();

    await broker.resume();
    const backend = await TelemetryBackend.connect(broker.url, { clientId: 'backend-corrupt' });
    cleanups.add('backend.close', () => backend.close());
    const second = await startAgent(broker.url, 'gw-corrupt', stateDir, { batchMaxReadings: 10 });
    await until(
      () => backend.events.some((e) => e.type === 'telemetry.quarantine'),
      'the quarantine report',
      5000,
    );
    await until(() => backend.readings.length >= 20, 'the intact readings', 5000);
    expect(backend.events.find((e) => e.type === 'telemetry.quarantine')).toMatchObject({ records: 1 });
    expect(backend.readings.map((r) => r.v).sort((a, b) => (a as number) - (b as number))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 10 }, (_, i) => i + 20),
    ]);
    expect(second.telemetry.status().quarantined).toBe(1);
  });
});
