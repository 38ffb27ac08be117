/**
 * The outbox on a real LevelDB in a temp dir, time from the fake clock. Durability is checked the only
 * way that counts: close, reopen, and look.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../../agent/core/log.js';
import { nextBootId } from '../../../agent/telemetry/boot-id.js';
import { type BatchInfo, Outbox, type OutboxOptions } from '../../../agent/telemetry/outbox.js';
import type { Reading } from '../../../agent/telemetry/reading.js';
import { openTelemetryStore, type TelemetryStore } from '../../../agent/telemetry/store.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';
import { trackStore } from '../../support/tracked-store.js';

const tempDir = tempDirs('edge-outbox-');

const OPTIONS: OutboxOptions = {
  commitIntervalMs: 50,
  commitMaxItems: 1000,
  batchMaxAgeMs: 500,
  batchMaxItems: 100,
  budgetBytes: 10_000_000,
  downsampleWindowMs: 60_000,
};

interface Harness {
  clock: FakeClock;
  store: TelemetryStore;
  /** Resolves once the store's pending I/O has finished. */
  idle: () => Promise<void>;
  outbox: Outbox;
  trust: { trusted: boolean };
  sealed: BatchInfo[];
  dir: string;
}

async function harness(
  options: Partial<OutboxOptions> = {},
  dir?: string,
  clock = new FakeClock(),
): Promise<Harness> {
  const d = dir ?? (await tempDir());
  const tracked = trackStore(await openTelemetryStore(d));
  const { store } = tracked;
  const bootId = await nextBootId(store.meta);
  const trust = { trusted: true };
  const outbox = new Outbox(
    {
      clock,
      log: process.env.DBG ? createLogger({ level: 'debug', pretty: false }) : silentLogger(),
      store,
      bootId,
      trust,
    },
    { ...OPTIONS, ...options },
  );
  await outbox.open();
  const sealed: BatchInfo[] = [];
  outbox.on('sealed', (b) => sealed.push(b));
  return { clock, store, idle: () => tracked.idle(), outbox, trust, sealed, dir: d };
}

async function reopen(h: Harness, options: Partial<OutboxOptions> = {}): Promise<Harness> {
  await h.outbox.close();
  await h.store.close();
  return harness(options, h.dir, h.clock);
}

function reading(
  clock: FakeClock,
  name: string,
  value: number | boolean,
  priority?: Reading['priority'],
): Reading {
  return {
    name,
    value,
    unit: typeof value === 'number' ? 'Cel' : undefined,
    wallMs: clock.nowMs(),
    monoMs: clock.monotonicMs(),
    priority,
  };
}

/** Advances fake time until `promise` settles, letting LevelDB's I/O finish between steps. */
async function settle<T>(h: Harness, promise: Promise<T>, stepMs = 10): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 2000 && !done; i++) {
    await h.clock.advance(stepMs);
    await h.idle();
  }
  return promise;
}

async function allReadings(h: Harness): Promise<Reading[]> {
  const out: Reading[] = [];
  for (const info of [...h.outbox.batches()]) {
    if (!h.outbox.lease(info.id)) continue;
    const b = await h.outbox.read(info.id);
    h.outbox.release(info.id);
    if (b?.content.kind === 'raw') out.push(...b.content.readings);
  }
  return out;
}

describe('Outbox group commit', () => {
  it('resolves an append only after its group commit is written, and the reading survives a reopen', async () => {
    const h = await harness();
    let acked = false;
    const r = reading(h.clock, 'chamber.temp', 21.5);
    const p = h.outbox.appendReading(r).then(() => {
      acked = true;
    });
    await h.clock.advance(49);
    await h.idle();
    expect(acked).toBe(false);
    await settle(h, p);
    expect(acked).toBe(true);
    const again = await reopen(h);
    expect(await allReadings(again)).toEqual(
      [{ ...r, priority: undefined }].map(({ priority: _, ...x }) => x),
    );
    await again.outbox.close();
    await again.store.close();
  });

  it('commits at once when commitMaxItems readings are waiting', async () => {
    const h = await harness({ commitMaxItems: 10 });
    const promises = Array.from({ length: 10 }, (_, i) => h.outbox.appendReading(reading(h.clock, 'a', i)));
    await h.clock.advance(0);
    await Promise.all(promises);
    expect(h.outbox.stats().items).toBe(10);
    await h.outbox.close();
    await h.store.close();
  });

  it('seals a batch after batchMaxAgeMs or batchMaxItems, with keys that carry the boot id and seq in order', async () => {
    const h = await harness({ batchMaxItems: 3 });
    const ps = [1, 2, 3, 4].map((v) => h.outbox.appendReading(reading(h.clock, 'a', v)));
    await settle(h, Promise.all(ps));
    expect(h.sealed.map((b) => [b.seq, b.items])).toEqual([[1, 3]]);
    await settle(h, h.clock.advance(500));
    expect(h.sealed.map((b) => [b.seq, b.items])).toEqual([
      [1, 3],
      [2, 1],
    ]);
    expect(h.sealed[0]?.id).toBe(`${h.outbox.bootId}.0000000001`);
    expect(h.outbox.bootId).toMatch(/^00000001-[0-9a-f]{8}$/);
    await h.outbox.close();
    await h.store.close();
  });

  it('writes a batch as one part per commit, and one compact part once it is sealed', async () => {
    const h = await harness();
    for (const v of [1, 2, 3]) {
      await settle(h, h.outbox.appendReading(reading(h.clock, 'a', v)));
    }
    const parts = async () => {
      const keys: string[] = [];
      for await (const key of h.store.batches.keys()) keys.push(key);
      return keys.map((k) => k.slice(-4));
    };
    expect(await parts()).toEqual(['0000', '0001', '0002']);
    await h.clock.advance(500);
    await h.outbox.flush();
    await h.outbox.flush(); // the consolidation runs after the sealing commit
    expect(h.sealed.map((b) => [b.parts, b.items])).toEqual([[1, 3]]);
    expect(await parts()).toEqual(['0000']);
    expect((await allReadings(h)).map((r) => r.value)).toEqual([1, 2, 3]);
    await h.outbox.close();
    await h.store.close();
  });

  it('keeps readings taken before the clock was trusted in their own batches', async () => {
    const h = await harness();
    h.trust.trusted = false;
    const a = h.outbox.appendReading(reading(h.clock, 'a', 1));
    h.trust.trusted = true;
    h.outbox.sealOpen();
    const b = h.outbox.appendReading(reading(h.clock, 'a', 2));
    await settle(h, Promise.all([a, b]));
    await h.outbox.flush({ seal: true });
    expect(h.sealed.map((x) => [x.trusted, x.items])).toEqual([
      [false, 1],
      [true, 1],
    ]);
    await h.outbox.close();
    await h.store.close();
  });

  it('puts events in high-priority event batches', async () => {
    const h = await harness();
    const at = { wallMs: h.clock.nowMs(), monoMs: h.clock.monotonicMs() };
    await settle(
      h,
      h.outbox.appendEvent({ type: 'alarm', data: { id: 'x', state: 'active-unacked' }, ...at }),
    );
    await h.outbox.flush({ seal: true });
    const info = h.sealed[0] as BatchInfo;
    expect([info.kind, info.priority]).toEqual(['event', 'high']);
    h.outbox.lease(info.id);
    expect((await h.outbox.read(info.id))?.content).toEqual({
      kind: 'event',
      events: [{ type: 'alarm', data: { id: 'x', state: 'active-unacked' }, ...at }],
    });
    await h.outbox.close();
    await h.store.close();
  });
});

describe('Outbox lease, ack and release', () => {
  it('deletes an acknowledged batch for good and keeps a released one', async () => {
    const h = await harness({ batchMaxItems: 1 });
    await settle(h, Promise.all([1, 2].map((v) => h.outbox.appendReading(reading(h.clock, 'a', v)))));
    const [first, second] = h.sealed as [BatchInfo, BatchInfo];
    expect(h.outbox.lease(first.id)).toBeDefined();
    expect(h.outbox.lease(first.id)).toBeUndefined(); // already leased
    h.outbox.ack(first.id);
    h.outbox.lease(second.id);
    h.outbox.release(second.id);
    await settle(h, h.clock.advance(100));
    const again = await reopen(h);
    expect((await allReadings(again)).map((r) => r.value)).toEqual([2]);
    await again.outbox.close();
    await again.store.close();
  });
});

describe('Outbox corruption', () => {
  it('quarantines a record that does not decode, counts it, and keeps every other reading', async () => {
    const h = await harness({ batchMaxItems: 1 });
    await settle(h, Promise.all([1, 2, 3].map((v) => h.outbox.appendReading(reading(h.clock, 'a', v)))));
    await h.outbox.close();
    // Bit rot in the middle record.
    const keys: string[] = [];
    for await (const key of h.store.batches.keys()) keys.push(key);
    await h.store.batches.put(keys[1] as string, new Uint8Array([0xa1, 0x61, 0x76, 0x02, 0xff, 0x13]));
    await h.store.batches.put('not-a-key', new Uint8Array([1, 2, 3]));
    await h.store.close();
    const again = await harness({}, h.dir, h.clock);
    expect(again.outbox.stats()).toMatchObject({ batches: 2, items: 2, quarantined: 2 });
    expect((await allReadings(again)).map((r) => r.value)).toEqual([1, 3]);
    const quarantined: string[] = [];
    for await (const key of again.store.quarantine.keys()) quarantined.push(key);
    expect(quarantined.map((k) => k.slice(18))).toEqual([keys[1], 'not-a-key'].sort());
    await again.outbox.close();
    await again.store.close();
    // The count is persisted.
    const third = await harness({}, h.dir, h.clock);
    expect(third.outbox.stats().quarantined).toBe(2);
    await third.outbox.close();
    await third.store.close();
  });
});

describe('Outbox byte budget', () => {
  it('first downsamples old raw batches into aggregates, reports it, and keeps the newest raw', async () => {
    const h = await harness({ budgetBytes: 6_000, batchMaxItems: 50, downsampleWindowMs: 10_000 });
    const reports: unknown[] = [];
    h.outbox.on('evicted', (r) => reports.push(r));
    for (let i = 0; i < 400; i++) {
      const p = h.outbox.appendReading(reading(h.clock, 'chamber.temp', 20 + (i % 10) / 10));
      await h.clock.advance(100);
      if (i % 50 === 49) await settle(h, p);
    }
    await settle(h, h.outbox.flush({ seal: true }));
    const stats = h.outbox.stats();
    expect(stats.bytes).toBeLessThanOrEqual(6_000);
    expect(stats.downsampled).toBeGreaterThan(0);
    expect(stats.dropped).toEqual({ low: 0, normal: 0, high: 0 });
    const kinds = [...h.outbox.batches()].map((b) => b.kind);
    expect(kinds[0]).toBe('agg');
    expect(kinds).toContain('raw');
    expect(kinds).toContain('event'); // the downsample report
    const agg = [...h.outbox.batches()][0] as BatchInfo;
    h.outbox.lease(agg.id);
    const content = (await h.outbox.read(agg.id))?.content;
    const first = content?.kind === 'agg' ? content.aggregates[0] : undefined;
    expect(first).toMatchObject({ name: 'chamber.temp', unit: 'Cel', min: 20, max: 20.9 });
    // One 10 s window of 10 Hz readings (the first may start mid-window).
    expect(first?.count).toBeGreaterThan(1);
    expect(first?.count).toBeLessThanOrEqual(100);
    expect(reports.length).toBeGreaterThan(0);
    await h.outbox.close();
    await h.store.close();
  });

  it('then drops the oldest low-priority batches before normal ones, counting every item and reporting it', async () => {
    const h = await harness({ budgetBytes: 4_000, batchMaxItems: 20 });
    const events: unknown[] = [];
    // Nothing downsamples: every reading is a different point (one aggregate each saves nothing).
    const put = async (priority: Reading['priority'], n: number) => {
      for (let i = 0; i < n; i++) {
        const p = h.outbox.appendReading(reading(h.clock, `p${priority}.${i}`, i, priority));
        if (i % 20 === 19) await settle(h, p);
      }
    };
    await put('normal', 60);
    await put('low', 60);
    await put('normal', 60);
    await settle(h, h.outbox.flush({ seal: true }));
    const stats = h.outbox.stats();
    expect(stats.bytes).toBeLessThanOrEqual(4_000);
    expect(stats.dropped.low).toBeGreaterThan(0);
    expect(stats.dropped).toMatchObject({ normal: 0, high: 0 });
    for (const info of [...h.outbox.batches()]) {
      if (info.kind !== 'event' || !h.outbox.lease(info.id)) continue;
      const b = await h.outbox.read(info.id);
      if (b?.content.kind === 'event') events.push(...b.content.events.map((e) => e.type));
    }
    expect(events).toContain('telemetry.drop');
    const remaining = (await allReadings(h)).map((r) => r.name);
    // Low went first: all the normal readings are still there, older and newer than the low ones.
    expect(remaining.filter((n) => n.startsWith('pnormal.'))).toHaveLength(120);
    expect(remaining.filter((n) => n.startsWith('plow.'))).toHaveLength(60 - stats.dropped.low);
    await h.outbox.close();
    await h.store.close();
  });
});
