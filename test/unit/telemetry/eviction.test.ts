/** Eviction planning and downsampling as pure functions. */
import { describe, expect, it } from 'vitest';
import { downsample } from '../../../agent/telemetry/downsample.js';
import { dropEvent, pickDownsampleRun, pickDropVictims } from '../../../agent/telemetry/eviction.js';
import type { IndexEntry } from '../../../agent/telemetry/outbox-types.js';

function entry(seq: number, extra: Partial<IndexEntry> = {}): IndexEntry {
  return {
    id: `00000001-00000000.${seq.toString(16).padStart(10, '0')}`,
    bootId: '00000001-00000000',
    seq,
    kind: 'raw',
    priority: 'normal',
    trusted: true,
    items: 10,
    bytes: 100,
    parts: 1,
    firstWallMs: 0,
    firstMonoMs: 0,
    sealed: true,
    leased: false,
    attempted: false,
    noDownsample: false,
    ...extra,
  };
}

describe('pickDownsampleRun', () => {
  it('takes the oldest consecutive raw batches of one boot, priority and trust', () => {
    const entries = [
      entry(1, { kind: 'event', priority: 'high' }),
      entry(2),
      entry(3),
      entry(4, { trusted: false }),
      entry(5),
    ];
    expect(pickDownsampleRun(entries).map((e) => e.seq)).toEqual([2, 3]);
  });

  it('never takes high priority, leased, already offered, open or unshrinkable batches', () => {
    const entries = [
      entry(1, { priority: 'high' }),
      entry(2, { leased: true }),
      entry(3, { attempted: true }),
      entry(4, { sealed: false }),
      entry(5, { noDownsample: true }),
    ];
    expect(pickDownsampleRun(entries)).toEqual([]);
  });
});

describe('pickDropVictims', () => {
  it('drops low before normal before high, oldest first, only as much as needed', () => {
    const entries = [
      entry(1),
      entry(2, { priority: 'low' }),
      entry(3, { priority: 'high' }),
      entry(4, { priority: 'low' }),
    ];
    expect(pickDropVictims(entries, 400, 250).map((e) => e.seq)).toEqual([2, 4]);
    expect(pickDropVictims(entries, 400, 150).map((e) => e.seq)).toEqual([2, 4, 1]);
    expect(pickDropVictims(entries, 400, 0).map((e) => e.seq)).toEqual([2, 4, 1, 3]);
  });

  it('never drops a batch in flight or still open', () => {
    const entries = [entry(1, { leased: true }), entry(2, { sealed: false })];
    expect(pickDropVictims(entries, 200, 0)).toEqual([]);
  });
});

describe('dropEvent', () => {
  it('reports what was dropped, by priority, with the running total', () => {
    const event = dropEvent(
      [entry(2, { priority: 'low' }), entry(5, { priority: 'normal', items: 3 })],
      { dropped: { low: 30, normal: 3, high: 0 }, downsampled: 0, quarantined: 0, writeFailed: 0 },
      { wallMs: 1, monoMs: 2 },
    );
    expect(event).toEqual({
      type: 'telemetry.drop',
      data: {
        reason: 'budget',
        batches: 2,
        items: 13,
        low: 10,
        normal: 3,
        high: 0,
        firstBatch: '00000001-00000000.0000000002',
        lastBatch: '00000001-00000000.0000000005',
        totalDropped: 33,
      },
      wallMs: 1,
      monoMs: 2,
    });
  });
});

describe('downsample', () => {
  it('aggregates numeric readings per point per window and keeps only changes of the others', () => {
    const r = (name: string, value: number | boolean, s: number) => ({
      name,
      value,
      wallMs: s * 1000,
      monoMs: s * 1000,
    });
    const out = downsample(
      [
        r('t', 1, 0),
        r('t', 3, 30),
        r('t', 5, 61),
        r('door', false, 1),
        r('door', false, 2),
        r('door', true, 3),
      ],
      60_000,
      true,
    );
    expect(out.aggregates.map((a) => [a.name, a.min, a.max, a.mean, a.count, a.wallMs])).toEqual([
      ['t', 1, 3, 2, 2, 0],
      ['t', 5, 5, 5, 1, 61_000],
    ]);
    expect(out.readings.map((x) => x.value)).toEqual([false, true]);
  });
});
