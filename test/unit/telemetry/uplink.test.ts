/**
 * The uplink over a fake link and a real outbox: order (live first, backlog oldest first), pacing,
 * the in-flight window, PUBACK before delete, dedup properties, and holding untrusted readings for
 * a trusted clock.
 */
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../agent/core/log.js';
import { LinkError } from '../../../agent/link/errors.js';
import { nextBootId } from '../../../agent/telemetry/boot-id.js';
import { Outbox } from '../../../agent/telemetry/outbox.js';
import { openTelemetryStore } from '../../../agent/telemetry/store.js';
import { Uplink, type UplinkOptions } from '../../../agent/telemetry/uplink.js';
import { FakeClock } from '../../support/fake-clock.js';
import { decodeSenmlCbor, resolveSenml } from '../../support/senml-decode.js';
import { tempDirs } from '../../support/temp-dir.js';
import { trackStore } from '../../support/tracked-store.js';
import { until } from '../../support/until.js';
import { FakeLink } from './fake-link.js';

const tempDir = tempDirs('edge-uplink-');

const OPTIONS: UplinkOptions = {
  inFlightMax: 4,
  drainReadingsPerS: 1000,
  drainBurstReadings: 100,
  trustWaitMs: 60_000,
  retryMs: 5000,
};

async function setup(options: Partial<UplinkOptions> = {}) {
  const clock = new FakeClock();
  const tracked = trackStore(await openTelemetryStore(await tempDir()));
  const { store } = tracked;
  const bootId = await nextBootId(store.meta);
  const trust = { trusted: true };
  const offsets = new Map<string, number>();
  const wallClock = {
    get trusted() {
      return trust.trusted;
    },
    offsetFor: (b: string) => offsets.get(b),
  };
  const outbox = new Outbox(
    { clock, log: silentLogger(), store, bootId, trust },
    {
      commitIntervalMs: 10,
      commitMaxItems: 10_000,
      batchMaxAgeMs: 100,
      batchMaxItems: 100,
      budgetBytes: 10_000_000,
      downsampleWindowMs: 60_000,
    },
  );
  await outbox.open();
  const link = new FakeLink();
  const uplink = new Uplink(
    { clock, log: silentLogger(), outbox, link, wallClock },
    { ...OPTIONS, ...options },
  );
  // Fake time for the uplink's timers; between steps, LevelDB's I/O runs to completion.
  const io = () => tracked.idle();
  const run = async (ms: number, stepMs = 10) => {
    for (let t = 0; t < ms; t += stepMs) {
      await clock.advance(stepMs);
      await io();
    }
  };
  /** Appends readings, waits for their commit, and seals their batch. */
  const add = async (name: string, values: number[]) => {
    let last: Promise<void> = Promise.resolve();
    for (const v of values) {
      last = outbox.appendReading({
        name,
        value: v,
        unit: 'Cel',
        wallMs: clock.nowMs(),
        monoMs: clock.monotonicMs(),
      });
    }
    let done = false;
    void last.then(() => (done = true));
    while (!done) await run(10);
    await clock.advance(100);
    await outbox.flush();
    await io();
  };
  const close = async () => {
    await uplink.stop();
    await outbox.close();
    await store.close();
  };
  return { clock, outbox, link, uplink, trust, offsets, run, add, close, bootId };
}

const valuesOf = (payload: Uint8Array) => {
  const pack = decodeSenmlCbor(payload);
  if (!pack.ok) throw new Error(pack.reason);
  const resolved = resolveSenml(pack.value, { understood: ['tq_'] });
  if (!resolved.ok) throw new Error(resolved.reason);
  return resolved.value.map((r) => r.v);
};

describe('Uplink', () => {
  it('publishes each batch at QoS 1 with boot and seq, and deletes it only after the PUBACK', async () => {
    const h = await setup();
    await h.add('chamber.temp', [1, 2, 3]);
    h.uplink.start();
    h.link.up();
    await h.run(20);
    expect(h.link.published).toHaveLength(1);
    const p = h.link.published[0];
    expect(p?.topic).toBe('edge/gw-1/telemetry');
    expect(p?.options).toEqual({
      qos: 1,
      userProperties: { boot: h.bootId, seq: '1' },
      contentType: 'application/senml+cbor',
    });
    expect(valuesOf(p?.payload as Uint8Array)).toEqual([1, 2, 3]);
    expect(h.outbox.stats().items).toBe(3);
    p?.ack();
    await h.run(20);
    expect(h.outbox.stats().items).toBe(0);
    await h.close();
  });

  it('gives a batch back when the session dies before the PUBACK, and sends it again after reconnecting', async () => {
    const h = await setup();
    await h.add('a', [1]);
    h.uplink.start();
    h.link.up();
    await h.run(20);
    h.link.down();
    await h.run(20);
    expect(h.outbox.stats().items).toBe(1);
    h.link.up();
    await h.run(20);
    expect(h.link.published.map((p) => p.options.userProperties?.seq)).toEqual(['1']);
    await h.close();
  });

  it('keeps at most inFlightMax batches unacknowledged', async () => {
    const h = await setup({ inFlightMax: 2, drainReadingsPerS: 1e9, drainBurstReadings: 1e9 });
    for (let i = 0; i < 5; i++) await h.add(`p${i}`, [i]);
    h.uplink.start();
    h.link.up();
    await h.run(50);
    expect(h.link.published).toHaveLength(2);
    h.link.published[0]?.ack();
    await h.run(20);
    expect(h.link.published).toHaveLength(2);
    expect(h.uplink.stats().sentBatches).toBe(1);
    await h.close();
  });

  it('drains the backlog oldest first at the token-bucket pace, with live batches first', async () => {
    const h = await setup({ drainReadingsPerS: 100, drainBurstReadings: 10, inFlightMax: 100 });
    for (let i = 0; i < 6; i++)
      await h.add(
        'old',
        Array.from({ length: 10 }, (_, j) => i * 10 + j),
      );
    h.link.autoAck = true;
    const sent: { id: string; live: boolean; atMs: number }[] = [];
    h.uplink.on('sent', (b) => sent.push({ id: b.id, live: b.live, atMs: h.clock.monotonicMs() }));
    h.uplink.start();
    h.link.up();
    await h.run(100);
    // Burst of 10 readings: one batch at once, then one per 100 ms (10 readings at 100/s).
    expect(sent.filter((s) => !s.live)).toHaveLength(2);
    // A fresh reading while the backlog drains goes out as soon as its batch is sealed.
    void h.outbox.appendReading({
      name: 'new',
      value: 99,
      wallMs: h.clock.nowMs(),
      monoMs: h.clock.monotonicMs(),
    });
    await h.run(150);
    const live = sent.find((s) => s.live);
    expect(live).toBeDefined();
    expect(sent.filter((s) => !s.live).length).toBeLessThan(6);
    await h.run(1000);
    const backlog = sent.filter((s) => !s.live).map((s) => s.id);
    expect(backlog).toEqual([...backlog].sort());
    expect(backlog).toHaveLength(6);
    await h.close();
  });

  it('hands batches to the link oldest first even when an older one is read back later', async () => {
    const h = await setup({ inFlightMax: 4 });
    for (let i = 0; i < 4; i++) await h.add('old', [i]);
    // The oldest batch's read from LevelDB is the slowest (a cold block, a busy disk): it finishes
    // only after the three newer ones.
    const read = h.outbox.read.bind(h.outbox);
    const first = h.outbox.batches().next().value?.id;
    let newerRead = 0;
    let releaseFirst = () => {};
    const firstMayFinish = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    vi.spyOn(h.outbox, 'read').mockImplementation(async (id) => {
      if (id === first) {
        await firstMayFinish;
        return read(id);
      }
      const batch = await read(id);
      if (++newerRead === 3) releaseFirst();
      return batch;
    });
    h.uplink.start();
    h.link.up();
    await h.run(20);
    await until(() => h.link.published.length === 4, 'four batches published');
    const seqs = h.link.published.map((p) => Number(p.options.userProperties?.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    await h.close();
  });

  it('holds untrusted readings of this boot until the clock is trusted, then sends them corrected', async () => {
    const h = await setup();
    h.trust.trusted = false;
    h.clock.setWallMs(Date.UTC(1970, 0, 2)); // a Pi without RTC
    await h.add('a', [1]);
    h.uplink.start();
    h.link.up();
    await h.run(100);
    expect(h.link.published).toHaveLength(0);
    // NTP: the real time is 2026; offset = wall − monotonic at that moment.
    const real = Date.UTC(2026, 5, 1);
    h.clock.setWallMs(real);
    h.offsets.set(h.bootId, real - h.clock.monotonicMs());
    h.trust.trusted = true;
    h.uplink.clockTrusted();
    await h.run(20);
    // The batch is read back from LevelDB in real time, which a loaded machine may stretch.
    await until(() => h.link.published.length > 0, 'the held batch to go out');
    const p = h.link.published[0];
    const pack = decodeSenmlCbor(p?.payload as Uint8Array);
    const resolved = pack.ok ? resolveSenml(pack.value) : undefined;
    // Taken ~250 ms before trust arrived, in 2026.
    const t = resolved?.ok ? (resolved.value[0]?.t as number) : 0;
    expect(real / 1000 - t).toBeGreaterThan(0.1);
    expect(real / 1000 - t).toBeLessThan(1);
    await h.close();
  });

  it('holds a live batch taken before the clock is trusted like the backlog, then sends it corrected', async () => {
    const h = await setup();
    h.trust.trusted = false;
    h.clock.setWallMs(Date.UTC(1970, 0, 2));
    h.uplink.start();
    h.link.up();
    await h.add('a', [1, 2]); // sealed while the link is up: a live batch
    await h.run(1000);
    expect(h.link.published).toHaveLength(0);
    const real = Date.UTC(2026, 5, 1);
    h.clock.setWallMs(real);
    h.offsets.set(h.bootId, real - h.clock.monotonicMs());
    h.trust.trusted = true;
    h.uplink.clockTrusted();
    await h.run(20);
    await until(() => h.link.published.length > 0, 'the held live batch to go out');
    const pack = decodeSenmlCbor(h.link.published[0]?.payload as Uint8Array);
    const resolved = pack.ok ? resolveSenml(pack.value) : undefined; // no tq_: a plain receiver reads it
    expect(resolved?.ok && resolved.value.map((r) => r.v)).toEqual([1, 2]);
    const t = resolved?.ok ? (resolved.value[0]?.t as number) : 0;
    expect(real / 1000 - t).toBeGreaterThan(0.9);
    expect(real / 1000 - t).toBeLessThan(2);
    await h.close();
  });

  it('sends uncorrectable readings flagged with the must-understand tq_ field after trustWaitMs', async () => {
    const h = await setup({ trustWaitMs: 1000 });
    h.trust.trusted = false;
    await h.add('a', [1]);
    h.uplink.start();
    h.link.up();
    await h.run(500);
    expect(h.link.published).toHaveLength(0);
    await h.run(1000);
    const p = h.link.published[0];
    const pack = decodeSenmlCbor(p?.payload as Uint8Array);
    expect(pack.ok && pack.value[0]?.tq_).toBe('unsynced');
    expect(pack.ok && resolveSenml(pack.value).ok).toBe(false); // a receiver that does not know it must refuse
    await h.close();
  });

  it('pauses after the broker rejects a batch and tries again later', async () => {
    const h = await setup({ retryMs: 1000 });
    await h.add('a', [1]);
    h.uplink.start();
    h.link.up();
    await h.run(20);
    h.link.published[0]?.fail(new LinkError('EREJECTED', 'quota exceeded', { reasonCode: 0x97 }));
    await h.run(500);
    expect(h.link.published).toHaveLength(0);
    expect(h.uplink.stats().rejected).toBe(1);
    await h.run(1100);
    expect(h.link.published).toHaveLength(1);
    await h.close();
  });

  it('discards a batch the broker refuses three times, counting and reporting it as a drop', async () => {
    const h = await setup({ retryMs: 100 });
    await h.add('a', [1, 2]);
    h.uplink.start();
    h.link.up();
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 50 && h.link.published.length === 0; j++) await h.run(10);
      h.link.published[0]?.fail(
        new LinkError('EREJECTED', 'Publish error: Packet too large', { reasonCode: 0x95 }),
      );
      await h.run(20);
    }
    await h.run(200);
    expect(h.outbox.stats().dropped.normal).toBe(2);
    // The drop report is the next thing sent, on the events topic.
    const report = h.link.published.find((p) => p.topic === 'edge/gw-1/events');
    expect(report).toBeDefined();
    await h.close();
  });
});
