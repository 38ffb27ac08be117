/**
 * Downsampling for the byte budget: raw readings become min/max/mean/count per point per window, the
 * first step of eviction before anything is dropped (outbox.ts). Windows are aligned on the wall clock
 * for trusted readings (whole minutes read well on a dashboard) and on the monotonic clock otherwise,
 * since an untrusted wall time may jump; an aggregate is timed at its window's first reading. Boolean
 * and text readings are not averaged: only their changes are kept.
 */
import type { Aggregate, Reading } from './reading.js';

export interface Downsampled {
  readonly aggregates: Aggregate[];
  /** Boolean and text readings that changed (the first of each point, then each change). */
  readonly readings: Reading[];
}

interface Acc {
  name: string;
  unit: Reading['unit'];
  min: number;
  max: number;
  sum: number;
  count: number;
  wallMs: number;
  monoMs: number;
}

export function downsample(readings: Iterable<Reading>, windowMs: number, trusted: boolean): Downsampled {
  if (!(windowMs > 0)) throw new TypeError(`windowMs must be > 0, got ${windowMs}`);
  const windows = new Map<string, Acc>();
  const kept: Reading[] = [];
  const lastKept = new Map<string, Reading['value']>();
  for (const r of readings) {
    if (typeof r.value !== 'number') {
      if (lastKept.get(r.name) !== r.value || !lastKept.has(r.name)) {
        lastKept.set(r.name, r.value);
        kept.push(r);
      }
      continue;
    }
    const slot = Math.floor((trusted ? r.wallMs : r.monoMs) / windowMs);
    const key = `${slot}\u0000${r.name}`;
    const acc = windows.get(key);
    if (!acc) {
      windows.set(key, {
        name: r.name,
        unit: r.unit,
        min: r.value,
        max: r.value,
        sum: r.value,
        count: 1,
        wallMs: r.wallMs,
        monoMs: r.monoMs,
      });
      continue;
    }
    if (r.value < acc.min) acc.min = r.value;
    if (r.value > acc.max) acc.max = r.value;
    acc.sum += r.value;
    acc.count++;
    if (r.monoMs < acc.monoMs) {
      acc.monoMs = r.monoMs;
      acc.wallMs = r.wallMs;
    }
  }
  const aggregates = [...windows.values()]
    .sort((a, b) => a.monoMs - b.monoMs || (a.name < b.name ? -1 : 1))
    .map(
      (a): Aggregate => ({
        name: a.name,
        unit: a.unit,
        min: a.min,
        max: a.max,
        mean: a.sum / a.count,
        count: a.count,
        wallMs: a.wallMs,
        monoMs: a.monoMs,
      }),
    );
  return { aggregates, readings: kept };
}
