/**
 * Which samples of a point become telemetry, with LwM2M's notification attributes (OMA LwM2M 1.1
 * Core §5.1.2): `pmin` — no report sooner than this many seconds after the previous one (a qualifying
 * change is held and reported when pmin has passed); `pmax` — report at least this often, repeating the
 * last value; `st` — report when the value moved at least this much since the last report; `gt`/`lt` —
 * report when the value crosses this threshold (either way, against the previous sample). With none of
 * `st`/`gt`/`lt` every numeric sample is reported; a boolean or text point reports when it changes.
 *
 * `aggregate` replaces raw numeric reports with min/max/mean/count per window (windows run on the
 * monotonic clock from their first sample). `anomaly` keeps an exponentially weighted mean and variance
 * (EWMA, α) and flags a sample whose z-score exceeds `z` after `warmup` samples: it is reported at once
 * — past pmin, st and aggregation — with priority `high`, so eviction keeps it longest.
 */
import type { PointValue } from '../core/points.js';
import type { Priority } from './reading.js';

export interface FilterOptions {
  /** Minimum seconds between reports (LwM2M `pmin`). */
  readonly pmin?: number | undefined;
  /** Maximum seconds between reports (LwM2M `pmax`); 0 or absent: none. */
  readonly pmax?: number | undefined;
  /** Step (deadband): report when |value − last reported| ≥ st (LwM2M `st`). */
  readonly st?: number | undefined;
  /** Report when the value crosses above or below this (LwM2M `gt`). */
  readonly gt?: number | undefined;
  /** Report when the value crosses below or above this (LwM2M `lt`). */
  readonly lt?: number | undefined;
  readonly aggregate?: { readonly windowS: number } | undefined;
  readonly anomaly?: { readonly alpha: number; readonly z: number; readonly warmup: number } | undefined;
  readonly priority?: Priority | undefined;
}

export interface Sample {
  readonly value: PointValue;
  readonly wallMs: number;
  readonly monoMs: number;
}

export type FilterOutput =
  | {
      readonly kind: 'reading';
      readonly value: PointValue;
      readonly wallMs: number;
      readonly monoMs: number;
      readonly priority: Priority;
      readonly anomaly: boolean;
    }
  | {
      readonly kind: 'aggregate';
      readonly min: number;
      readonly max: number;
      readonly mean: number;
      readonly count: number;
      readonly wallMs: number;
      readonly monoMs: number;
      readonly priority: Priority;
    };

interface Window {
  min: number;
  max: number;
  sum: number;
  count: number;
  wallMs: number;
  monoMs: number;
}

export class PointFilter {
  readonly #pminMs: number;
  readonly #pmaxMs: number;
  readonly #opts: FilterOptions;
  readonly #priority: Priority;
  #lastReported: { value: PointValue; monoMs: number } | undefined;
  #previous: Sample | undefined;
  #pending: Sample | undefined;
  #window: Window | undefined;
  #ewma = { mean: 0, variance: 0, n: 0 };

  constructor(options: FilterOptions = {}) {
    for (const key of ['pmin', 'pmax', 'st'] as const) {
      const v = options[key];
      if (v !== undefined && !(v >= 0)) throw new TypeError(`${key} must be >= 0, got ${v}`);
    }
    if (options.aggregate && !(options.aggregate.windowS > 0)) {
      throw new TypeError(`aggregate.windowS must be > 0, got ${options.aggregate.windowS}`);
    }
    if (options.anomaly && !(options.anomaly.alpha > 0 && options.anomaly.alpha < 1)) {
      throw new TypeError(`anomaly.alpha must be in (0, 1), got ${options.anomaly.alpha}`);
    }
    this.#opts = options;
    this.#pminMs = (options.pmin ?? 0) * 1000;
    this.#pmaxMs = (options.pmax ?? 0) * 1000;
    this.#priority = options.priority ?? 'normal';
  }

  /** A new sample of the point; returns what to report now. */
  offer(sample: Sample): FilterOutput[] {
    const out: FilterOutput[] = [];
    const previous = this.#previous;
    this.#previous = sample;
    const { value } = sample;
    if (typeof value !== 'number') {
      if (this.#lastReported === undefined || this.#lastReported.value !== value) this.#qualify(sample, out);
      return out;
    }
    const anomaly = this.#isAnomaly(value);
    if (anomaly) {
      this.#pending = undefined;
      this.#report(sample, out, 'high', true);
    }
    if (this.#opts.aggregate) {
      this.#closeWindowIfDue(sample.monoMs, out);
      this.#accumulate(sample);
      return out;
    }
    if (!anomaly && this.#qualifiesNumber(value, previous)) this.#qualify(sample, out);
    return out;
  }

  /** Time passing: held (pmin) reports, pmax repeats and finished aggregate windows. */
  poll(nowWallMs: number, nowMonoMs: number): FilterOutput[] {
    const out: FilterOutput[] = [];
    if (this.#opts.aggregate) {
      this.#closeWindowIfDue(nowMonoMs, out);
      return out;
    }
    const last = this.#lastReported;
    if (this.#pending && (!last || nowMonoMs - last.monoMs >= this.#pminMs)) {
      const pending = this.#pending;
      this.#pending = undefined;
      this.#report(pending, out, this.#priority, false, nowMonoMs);
    } else if (this.#pmaxMs > 0 && last && this.#previous && nowMonoMs - last.monoMs >= this.#pmaxMs) {
      this.#report(
        { value: this.#previous.value, wallMs: nowWallMs, monoMs: nowMonoMs },
        out,
        this.#priority,
        false,
      );
    }
    return out;
  }

  /** The point is no longer good: stop repeating its last value and drop held reports. */
  invalidate(): void {
    this.#previous = undefined;
    this.#pending = undefined;
  }

  #qualifiesNumber(value: number, previous: Sample | undefined): boolean {
    const { st, gt, lt } = this.#opts;
    const last = this.#lastReported;
    if (!last) return true;
    if (st === undefined && gt === undefined && lt === undefined) return true;
    if (st !== undefined && typeof last.value === 'number' && Math.abs(value - last.value) >= st) return true;
    const prev = typeof previous?.value === 'number' ? previous.value : undefined;
    if (prev === undefined) return false;
    if (gt !== undefined && prev > gt !== value > gt) return true;
    if (lt !== undefined && prev < lt !== value < lt) return true;
    return false;
  }

  #qualify(sample: Sample, out: FilterOutput[]): void {
    const last = this.#lastReported;
    if (!last || sample.monoMs - last.monoMs >= this.#pminMs) {
      this.#pending = undefined;
      this.#report(sample, out, this.#priority, false);
    } else {
      this.#pending = sample;
    }
  }

  /** `atMonoMs`: when the report is made (pmin counts from there), later than the sample if it was held. */
  #report(
    sample: Sample,
    out: FilterOutput[],
    priority: Priority,
    anomaly: boolean,
    atMonoMs = sample.monoMs,
  ): void {
    this.#lastReported = { value: sample.value, monoMs: atMonoMs };
    out.push({
      kind: 'reading',
      value: sample.value,
      wallMs: sample.wallMs,
      monoMs: sample.monoMs,
      priority,
      anomaly,
    });
  }

  #isAnomaly(value: number): boolean {
    const cfg = this.#opts.anomaly;
    if (!cfg) return false;
    const e = this.#ewma;
    const sd = Math.sqrt(e.variance);
    const anomalous = e.n >= cfg.warmup && sd > 0 && Math.abs(value - e.mean) / sd > cfg.z;
    // West's incremental EWMA of mean and variance; the anomaly still updates them, so a lasting
    // level shift stops being anomalous.
    if (e.n === 0) {
      e.mean = value;
    } else {
      const diff = value - e.mean;
      const incr = cfg.alpha * diff;
      e.mean += incr;
      e.variance = (1 - cfg.alpha) * (e.variance + diff * incr);
    }
    e.n++;
    return anomalous;
  }

  #accumulate(sample: Sample): void {
    const v = sample.value as number;
    const w = this.#window;
    if (!w) {
      this.#window = { min: v, max: v, sum: v, count: 1, wallMs: sample.wallMs, monoMs: sample.monoMs };
      return;
    }
    if (v < w.min) w.min = v;
    if (v > w.max) w.max = v;
    w.sum += v;
    w.count++;
  }

  #closeWindowIfDue(nowMonoMs: number, out: FilterOutput[]): void {
    const w = this.#window;
    const windowMs = (this.#opts.aggregate?.windowS ?? 0) * 1000;
    if (!w || nowMonoMs < w.monoMs + windowMs) return;
    this.#window = undefined;
    out.push({
      kind: 'aggregate',
      min: w.min,
      max: w.max,
      mean: w.sum / w.count,
      count: w.count,
      wallMs: w.wallMs,
      monoMs: w.monoMs,
      priority: this.#priority,
    });
  }
}
