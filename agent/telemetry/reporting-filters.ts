/**
 * A point's reporting filter, as the telemetry configuration defines it: `telemetry.include` /
 * `exclude` choose the points, the first `telemetry.points` key (a name or glob) that matches is
 * merged over `defaults` (LwM2M pmin / pmax / st / gt / lt, filters.ts). TelemetryService filters what
 * it keeps with these; `ReportingFilters` runs the same filters a second time, on their own state, for
 * the log: a reading that crosses its point's filter is worth a line at info on the terminal, the rest
 * stay at debug. One configuration decides what the fleet and the technician see.
 */
import type { PointSnapshot } from '../core/points.js';
import { type FilterOptions, PointFilter } from './filters.js';
import type { Priority } from './reading.js';
import { globMatcher, type TelemetryConfig } from './telemetry-schema.js';

/** Whether telemetry reports the point at all (`include`, less `exclude`). */
export function reportsPoint(config: TelemetryConfig): (name: string) => boolean {
  const include = globMatcher(config.include);
  const exclude = globMatcher(config.exclude);
  return (name) => include(name) && !exclude(name);
}

/** The filter of one point: its first matching `points` entry merged over `defaults`. */
export function filterOptionsFor(config: TelemetryConfig, name: string): FilterOptions {
  const specific = Object.entries(config.points).find(([pattern]) => globMatcher([pattern])(name))?.[1];
  const c = { ...config.defaults, ...specific };
  return {
    pmin: c.pmin,
    pmax: c.pmax,
    st: c.st,
    gt: c.gt,
    lt: c.lt,
    aggregate: c.aggregate,
    anomaly: c.anomaly,
    priority: c.priority as Priority | undefined,
  };
}

/**
 * Does this sample cross its point's reporting filter? Samples are judged as they come, never polled:
 * a `pmax` repeat or an aggregate window is no news, and a change held back by `pmin` shows with the
 * first sample after the interval that still differs by the filter's measure — with the value the
 * point has then, not one it had a while ago. An aggregated point shows only its anomalies. The
 * filters apply whether or not telemetry is enabled: they say what matters at this site.
 */
export class ReportingFilters {
  readonly #config: TelemetryConfig;
  readonly #reports: (name: string) => boolean;
  readonly #filters = new Map<string, PointFilter>();

  constructor(config: TelemetryConfig) {
    this.#config = config;
    this.#reports = reportsPoint(config);
  }

  /**
   * Call once per sample of the point, in order (the filter keeps state). A sample that is not good
   * drops what the filter held, as telemetry does, and never crosses; nor does an excluded point.
   */
  crosses(p: PointSnapshot): boolean {
    if (!this.#reports(p.name)) return false;
    let filter = this.#filters.get(p.name);
    if (!filter) {
      filter = new PointFilter(filterOptionsFor(this.#config, p.name));
      this.#filters.set(p.name, filter);
    }
    if (p.quality !== 'good' || p.value === undefined) {
      filter.invalidate();
      return false;
    }
    return filter
      .offer({ value: p.value, wallMs: p.wallMs, monoMs: p.monoMs })
      .some((o) => o.kind === 'reading');
  }
}
