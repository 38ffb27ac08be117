import { describe, expect, it } from 'vitest';
import { type FilterOutput, PointFilter } from '../../../agent/telemetry/filters.js';

const WALL0 = Date.UTC(2026, 0, 1);

/** Feeds `values` one per `stepMs` and collects what is reported, polling between samples. */
function run(filter: PointFilter, values: (number | boolean)[], stepMs = 1000): FilterOutput[] {
  const out: FilterOutput[] = [];
  values.forEach((value, i) => {
    const monoMs = i * stepMs;
    out.push(...filter.poll(WALL0 + monoMs, monoMs));
    out.push(...filter.offer({ value, wallMs: WALL0 + monoMs, monoMs }));
  });
  return out;
}

const valuesOf = (out: FilterOutput[]) => out.map((o) => (o.kind === 'reading' ? o.value : o.mean));

describe('PointFilter (LwM2M notification attributes)', () => {
  it('reports every numeric sample when no attribute is set', () => {
    expect(valuesOf(run(new PointFilter(), [1, 1, 2, 2]))).toEqual([1, 1, 2, 2]);
  });

  it('reports a boolean only when it changes', () => {
    expect(valuesOf(run(new PointFilter(), [false, false, true, true, false]))).toEqual([false, true, false]);
  });

  it('with st reports when the value moved at least st from the last report, not the last sample', () => {
    // 20.0 reported; 20.3, 20.6 drift (0.3, 0.6 from 20.0); 20.6 ≥ 0.5 away → reported.
    expect(valuesOf(run(new PointFilter({ st: 0.5 }), [20, 20.3, 20.6, 20.9, 21.2]))).toEqual([
      20, 20.6, 21.2,
    ]);
  });

  it('with gt reports the samples that cross the threshold in either direction', () => {
    expect(valuesOf(run(new PointFilter({ gt: 30 }), [25, 29, 31, 35, 29, 28]))).toEqual([25, 31, 29]);
  });

  it('with lt reports the samples that cross below and back above', () => {
    expect(valuesOf(run(new PointFilter({ lt: 10 }), [12, 9, 8, 11]))).toEqual([12, 9, 11]);
  });

  it('holds a qualifying change until pmin has passed, then reports the latest one', () => {
    const f = new PointFilter({ pmin: 5 });
    const out = run(f, [1, 2, 3, 4, 5, 6, 7], 1000);
    // 1 at t=0; 2..5 are held (only the latest kept); at t=5 s the poll reports 5 (taken at 4 s);
    // 6 and 7 are held again until 5 s after that report.
    expect(out.map((o) => [o.monoMs, valuesOf([o])[0]])).toEqual([
      [0, 1],
      [4000, 5],
    ]);
    expect(f.poll(WALL0 + 9999, 9999)).toEqual([]);
    expect(valuesOf(f.poll(WALL0 + 10_000, 10_000))).toEqual([7]);
  });

  it('repeats the last value every pmax seconds, stamped with the time of the repeat', () => {
    const f = new PointFilter({ st: 100, pmax: 10 });
    expect(valuesOf(run(f, [1, 1.5]))).toEqual([1]);
    expect(f.poll(WALL0 + 9_000, 9_000)).toEqual([]);
    expect(f.poll(WALL0 + 10_000, 10_000)).toEqual([
      {
        kind: 'reading',
        value: 1.5,
        wallMs: WALL0 + 10_000,
        monoMs: 10_000,
        priority: 'normal',
        anomaly: false,
      },
    ]);
  });

  it('stops repeating a value once the point is invalidated (stale or faulted)', () => {
    const f = new PointFilter({ pmax: 10 });
    run(f, [1]);
    f.invalidate();
    expect(f.poll(WALL0 + 20_000, 20_000)).toEqual([]);
  });

  it('replaces raw samples by min/max/mean/count per window', () => {
    const f = new PointFilter({ aggregate: { windowS: 3 } });
    const out = run(f, [1, 2, 6, 10, 20], 1000);
    expect(out).toEqual([
      { kind: 'aggregate', min: 1, max: 6, mean: 3, count: 3, wallMs: WALL0, monoMs: 0, priority: 'normal' },
    ]);
    expect(f.poll(WALL0 + 6000, 6000)).toEqual([
      {
        kind: 'aggregate',
        min: 10,
        max: 20,
        mean: 15,
        count: 2,
        wallMs: WALL0 + 3000,
        monoMs: 3000,
        priority: 'normal',
      },
    ]);
  });

  it('flags an outlier by its EWMA z-score and reports it at once with high priority, past st', () => {
    const f = new PointFilter({ st: 50, anomaly: { alpha: 0.1, z: 4, warmup: 10 } });
    const noise = Array.from({ length: 30 }, (_, i) => 20 + (i % 2 ? 0.1 : -0.1));
    const out = run(f, [...noise, 25, 20]);
    expect(out.filter((o) => o.kind === 'reading' && o.anomaly)).toEqual([
      { kind: 'reading', value: 25, wallMs: WALL0 + 30_000, monoMs: 30_000, priority: 'high', anomaly: true },
    ]);
  });

  it('reports an anomaly raw even when the point is aggregated', () => {
    const f = new PointFilter({ aggregate: { windowS: 60 }, anomaly: { alpha: 0.2, z: 3, warmup: 5 } });
    const out = run(f, [1, 1.1, 0.9, 1, 1.1, 0.9, 1, 50]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'reading', value: 50, priority: 'high', anomaly: true });
  });

  it.each([
    [{ pmin: -1 }, 'pmin must be >= 0, got -1'],
    [{ aggregate: { windowS: 0 } }, 'aggregate.windowS must be > 0, got 0'],
    [{ anomaly: { alpha: 1, z: 3, warmup: 1 } }, 'anomaly.alpha must be in (0, 1), got 1'],
  ])('rejects %j', (options, message) => {
    expect(() => new PointFilter(options)).toThrow(new TypeError(message));
  });
});
