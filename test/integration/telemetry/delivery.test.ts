/**
 * Telemetry end to end through a real mosquitto: the point table → filters → durable outbox → uplink
 * → broker → a backend that decodes with a generic CBOR decoder and dedupes by boot/seq. The broker
 * is stopped and started while readings flow; every reading must arrive exactly once after dedup.
 */
import { expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { PointTable } from '../../../agent/core/points.js';
import { MqttLink } from '../../../agent/link/mqtt-link.js';
import { telemetrySchema } from '../../../agent/telemetry/telemetry-schema.js';
import { TelemetryService } from '../../../agent/telemetry/telemetry-service.js';
import { cleanupsAfterEach } from '../../support/cleanups.js';
import { Mosquitto } from '../../support/mosquitto.js';
import { describeWithTools } from '../../support/system-tools.js';
import { TelemetryBackend } from '../../support/telemetry-backend.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-telemetry-it-');
const cleanups = cleanupsAfterEach();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function agentOn(url: string, deviceId: string, config: Record<string, unknown> = {}) {
  const clock = new SystemClock();
  const log = silentLogger();
  const points = new PointTable({ clock });
  points.declare({ name: 'load.seq', unit: 'count' });
  points.declare({ name: 'chamber.temp', unit: 'Cel' });
  points.declare({ name: 'door.open' });
  const link = new MqttLink(
    { clock, log },
    {
      url,
      deviceId,
      topicPrefix: 'edge',
      keepaliveS: 5,
      connectTimeoutMs: 2000,
      backoff: { baseMs: 50, maxMs: 300 },
    },
  );
  const telemetry = new TelemetryService(
    { clock, log, points, link },
    {
      config: telemetrySchema.parse({
        timeTrust: 'system',
        commitIntervalMs: 20,
        batchMaxAgeMs: 100,
        batchMaxReadings: 500,
        ...config,
      }),
      stateDir: await tempDir(),
    },
  );
  telemetry.declarePoints();
  await telemetry.start();
  link.start();
  // Undone in reverse: telemetry stops first, then its link.
  cleanups.add('link.stop', () => link.stop());
  cleanups.add('telemetry.stop', () => telemetry.stop());
  return { points, link, telemetry };
}

describeWithTools(['mosquitto'], 'telemetry through a real broker', () => {
  it('delivers every reading exactly once after dedup across broker stop/start cycles, as valid SenML', async () => {
    const broker = await Mosquitto.start({ persistence: true });
    cleanups.add('broker.stop', () => broker.stop());
    const backend = await TelemetryBackend.connect(broker.url, { clientId: 'backend-delivery' });
    cleanups.add('backend.close', () => backend.close());
    const { points, telemetry } = await agentOn(broker.url, 'gw-delivery');

    const total = 12_000;
    const produce = (async () => {
      for (let i = 0; i < total; i++) {
        points.update('load.seq', i, 'test');
        if (i % 40 === 0) {
          points.update('chamber.temp', 20 + (i % 7) / 10, 'test');
          points.update('door.open', i % 80 === 0, 'test');
          await sleep(2);
        }
      }
    })();
    const outages = (async () => {
      for (let c = 0; c < 3; c++) {
        await sleep(300);
        await broker.pause('SIGTERM');
        await sleep(250);
        await broker.resume();
      }
    })();
    await Promise.all([produce, outages]);

    const seqOf = (n: string) => n === 'urn:dev:gw-delivery:load.seq';
    await until(
      () => backend.readings.filter((r) => seqOf(r.n)).length >= total,
      'every reading',
      12_000,
      () => ({
        received: backend.readings.filter((r) => seqOf(r.n)).length,
        batches: backend.batches.length,
        duplicates: backend.duplicates,
        seqs: backend.batches.map((b) => `${b.topic.slice(-6)}:${b.seq}`),
        stderr: broker.stderr,
        telemetry: telemetry.status(),
      }),
    );
    const values = backend.readings.filter((r) => seqOf(r.n)).map((r) => r.v as number);
    expect(values.length).toBe(total);
    expect(new Set(values).size).toBe(total);
    expect(Math.min(...values)).toBe(0);
    expect(Math.max(...values)).toBe(total - 1);
    expect(backend.invalid).toEqual([]);
    // Valid SenML with units and types, every name under the device's base name.
    const temp = backend.readings.find((r) => r.n === 'urn:dev:gw-delivery:chamber.temp');
    expect(temp).toMatchObject({ u: 'Cel' });
    expect(typeof temp?.v).toBe('number');
    expect(backend.readings.find((r) => r.n === 'urn:dev:gw-delivery:door.open')?.vb).toBe(true);
    expect(backend.readings.every((r) => r.n.startsWith('urn:dev:gw-delivery:'))).toBe(true);
    const nowS = Date.now() / 1000;
    expect(backend.readings.every((r) => r.t > nowS - 120 && r.t <= nowS + 1)).toBe(true);
    // Everything that was sent is gone from the outbox.
    await until(() => telemetry.status().queue.items === 0, 'an empty outbox', 5000);
  });
});
