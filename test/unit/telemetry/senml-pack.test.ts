/**
 * What a stored batch looks like on the wire: a SenML pack whose records resolve (RFC 8428 §4.6) to
 * exactly the stored readings, small because runs of one point re-base `bn`; corrected or flagged
 * times; aggregates as `/min`, `/max`, `/mean`, `/count`; events as plain CBOR.
 */
import { decode } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredBatch } from '../../../agent/telemetry/outbox.js';
import type { Reading } from '../../../agent/telemetry/reading.js';
import { encodeBatch } from '../../../agent/telemetry/senml-pack.js';
import { decodeSenmlCbor, resolveSenml } from '../../support/senml-decode.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0, 250);

function batch(content: StoredBatch['content'], trusted = true): StoredBatch {
  return {
    info: {
      id: '00000001-00000000.0000000001',
      bootId: '00000001-00000000',
      seq: 1,
      kind: content.kind,
      priority: 'normal',
      trusted,
      items: 0,
      bytes: 0,
      parts: 1,
      firstWallMs: T0,
      firstMonoMs: 0,
      sealed: true,
    },
    content,
  };
}

function resolved(payload: Uint8Array, understood: string[] = []) {
  const pack = decodeSenmlCbor(payload);
  if (!pack.ok) throw new Error(pack.reason);
  const r = resolveSenml(pack.value, { understood });
  if (!r.ok) throw new Error(r.reason);
  return { pack: pack.value, records: r.value };
}

const readings: Reading[] = [
  ...Array.from({ length: 5 }, (_, i) => ({
    name: 'chamber.temp',
    unit: 'Cel' as const,
    value: 21 + i / 100,
    wallMs: T0 + i * 1000,
    monoMs: 5000 + i * 1000,
  })),
  { name: 'door.state', value: true, wallMs: T0 + 1500, monoMs: 6500 },
  { name: 'air.label', value: 'ok', wallMs: T0 + 1700, monoMs: 6700 },
  ...Array.from({ length: 3 }, (_, i) => ({
    name: 'air.pm2_5',
    unit: 'kg/m3' as const,
    value: (9 + i) * 1e-9,
    wallMs: T0 + i * 250,
    monoMs: 5000 + i * 250,
  })),
];

describe('encodeBatch (telemetry)', () => {
  it('resolves to exactly the stored readings under urn:dev:<deviceId>:', () => {
    const wire = encodeBatch(batch({ kind: 'raw', readings }), { deviceId: 'gw-7', offsetMs: undefined });
    expect(wire.contentType).toBe('application/senml+cbor');
    expect(wire.items).toBe(readings.length);
    const { records } = resolved(wire.payload);
    const got = records.map((r) => ({ n: r.n, u: r.u, v: r.v ?? r.vb ?? r.vs, t: Math.round(r.t * 1000) }));
    const want = readings.map((r) => ({ n: `urn:dev:gw-7:${r.name}`, u: r.unit, v: r.value, t: r.wallMs }));
    const key = (x: { n: string; t: number }) => `${x.n}@${x.t}`;
    expect([...got].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...want].sort((a, b) => key(a).localeCompare(key(b))),
    );
  });

  it('starts with bn urn:dev:<id>: and bt in whole seconds, and re-bases bn for runs of one point', () => {
    const wire = encodeBatch(batch({ kind: 'raw', readings }), { deviceId: 'gw-7', offsetMs: undefined });
    const { pack } = resolved(wire.payload);
    expect(pack[0]).toMatchObject({
      bn: 'urn:dev:gw-7:',
      bt: Math.floor(T0 / 1000),
      n: 'door.state',
      vb: true,
    });
    const run = pack.find((r) => r.bn === 'urn:dev:gw-7:chamber.temp');
    expect(run).toMatchObject({ bu: 'Cel', v: 21, t: 0.25 });
    expect(run?.n).toBeUndefined();
    // The rest of the run carries only value and time.
    const next = pack[pack.indexOf(run!) + 1];
    expect(Object.keys(next as object).sort()).toEqual(['t', 'v']);
  });

  it('gives every pack a base time: whole-second instants shared by several records included', () => {
    // RFC 8428 §4.5.3: a record whose bt + t is below 2**28 is relative to the receiver's "now". The
    // receiver here resolves against a "now" years away, so a pack without a base time cannot pass.
    const nowS = Date.UTC(2031, 5, 1) / 1000;
    const instant = fc.oneof(
      fc.integer({ min: 0, max: 5 }).map((s) => T0 - 250 + s * 1000), // whole seconds, often shared
      fc.integer({ min: 0, max: 5_000 }).map((ms) => T0 + ms),
    );
    const reading = fc.record({
      name: fc.constantFrom('chamber.temp', 'chamber.pressure', 'door.state', 'air.pm2_5'),
      value: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      wallMs: instant,
    });
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 12 }), fc.boolean(), (rs, asAggregates) => {
        const stored: Reading[] = rs.map((r) => ({ ...r, monoMs: r.wallMs - T0 }));
        const content: StoredBatch['content'] = asAggregates
          ? {
              kind: 'agg',
              aggregates: stored.map((r) => ({
                name: r.name,
                min: r.value as number,
                max: r.value as number,
                mean: r.value as number,
                count: 1,
                wallMs: r.wallMs,
                monoMs: r.monoMs,
              })),
              readings: [],
            }
          : { kind: 'raw', readings: stored };
        const wire = encodeBatch(batch(content), { deviceId: 'gw', offsetMs: undefined });
        const pack = decodeSenmlCbor(wire.payload);
        if (!pack.ok) throw new Error(pack.reason);
        expect(pack.value[0]?.bt).toBeTypeOf('number');
        const records = resolveSenml(pack.value, { nowS });
        if (!records.ok) throw new Error(records.reason);
        const got = records.value.map(
          (r) => `${r.n.replace(/\/(min|max|mean|count)$/, '')}@${Math.round(r.t * 1000)}`,
        );
        const want = stored.flatMap((r) =>
          Array.from({ length: asAggregates ? 4 : 1 }, () => `urn:dev:gw:${r.name}@${r.wallMs}`),
        );
        expect(got.sort()).toEqual(want.sort());
      }),
      { numRuns: 300 },
    );
  });

  it('corrects untrusted times with the boot offset, and flags them (tq_) when there is none', () => {
    const skewed: Reading[] = [{ name: 'a', value: 1, wallMs: 86_400_000, monoMs: 5000 }];
    const corrected = encodeBatch(batch({ kind: 'raw', readings: skewed }, false), {
      deviceId: 'gw',
      offsetMs: T0 - 5000,
    });
    expect(corrected.unsynced).toBe(false);
    expect(resolved(corrected.payload).records[0]?.t).toBe(T0 / 1000);
    const flagged = encodeBatch(batch({ kind: 'raw', readings: skewed }, false), {
      deviceId: 'gw',
      offsetMs: undefined,
    });
    expect(flagged.unsynced).toBe(true);
    const { pack } = resolved(flagged.payload, ['tq_']);
    expect(pack.every((r) => r.tq_ === 'unsynced')).toBe(true);
    expect(resolveSenml(pack).ok).toBe(false);
  });

  it('sends an aggregate as <point>/min, /max, /mean and /count at the window start', () => {
    const wire = encodeBatch(
      batch({
        kind: 'agg',
        aggregates: [
          { name: 'chamber.temp', unit: 'Cel', min: 20, max: 22, mean: 21, count: 60, wallMs: T0, monoMs: 0 },
        ],
        readings: [],
      }),
      { deviceId: 'gw', offsetMs: undefined },
    );
    expect(wire.items).toBe(60);
    const { records } = resolved(wire.payload);
    expect(records.map((r) => [r.n, r.u, r.v, r.t])).toEqual([
      ['urn:dev:gw:chamber.temp/min', 'Cel', 20, T0 / 1000],
      ['urn:dev:gw:chamber.temp/max', 'Cel', 22, T0 / 1000],
      ['urn:dev:gw:chamber.temp/mean', 'Cel', 21, T0 / 1000],
      ['urn:dev:gw:chamber.temp/count', 'count', 60, T0 / 1000],
    ]);
  });

  it('is at least 75 % smaller than naive JSON for a batch of sensor readings', () => {
    const wire = encodeBatch(batch({ kind: 'raw', readings }), { deviceId: 'gw-7', offsetMs: undefined });
    const naive = readings
      .map((r) =>
        JSON.stringify({
          device: 'gw-7',
          point: r.name,
          value: r.value,
          unit: r.unit,
          time: new Date(r.wallMs).toISOString(),
          quality: 'good',
        }),
      )
      .join('\n');
    expect(wire.payload.length).toBeLessThan(naive.length * 0.25);
  });
});

describe('encodeBatch (events)', () => {
  it('writes an array of plain CBOR maps with type and time in seconds', () => {
    const wire = encodeBatch(
      batch({
        kind: 'event',
        events: [
          { type: 'alarm', data: { id: 'overtemp', state: 'active-unacked', n: 2 }, wallMs: T0, monoMs: 0 },
        ],
      }),
      { deviceId: 'gw', offsetMs: undefined },
    );
    expect(wire.contentType).toBe('application/cbor');
    expect(decode(wire.payload)).toEqual([
      { type: 'alarm', t: T0 / 1000, id: 'overtemp', state: 'active-unacked', n: 2 },
    ]);
  });
});
