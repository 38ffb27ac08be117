/**
 * What telemetry carries: readings (one value of one point at one time), windowed aggregates that
 * stand in for raw readings, and events (alarms, state changes, telemetry's own drop reports). Every
 * item has both time bases — wall (POSIX ms, wrong until the clock is trusted) and monotonic (ms since
 * this process started) — so a reading taken before NTP synced can be corrected later (wall-clock.ts).
 */
import type { PointValue } from '../core/points.js';
import type { SenmlUnit } from '../core/senml-units.js';

/** Eviction drops `low` first, `high` last (telemetry-schema.ts, outbox.ts). */
export type Priority = 'low' | 'normal' | 'high';
export const PRIORITIES: readonly Priority[] = ['low', 'normal', 'high'];

export interface Reading {
  /** The point name (`chamber.temp`). */
  readonly name: string;
  readonly value: PointValue;
  readonly unit?: SenmlUnit | undefined;
  readonly wallMs: number;
  readonly monoMs: number;
  readonly priority?: Priority | undefined;
}

/** min/max/mean/count of one numeric point over one window, timed at the window's first sample. */
export interface Aggregate {
  readonly name: string;
  readonly unit?: SenmlUnit | undefined;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly count: number;
  readonly wallMs: number;
  readonly monoMs: number;
  readonly priority?: Priority | undefined;
}

/** An event for `edge/<id>/events`: a type and flat, CBOR-encodable data. */
export interface TelemetryEvent {
  /** Dotted type: `alarm`, `point.quality`, `telemetry.drop`, `telemetry.downsample`, … */
  readonly type: string;
  readonly data: Readonly<Record<string, string | number | boolean | null>>;
  readonly wallMs: number;
  readonly monoMs: number;
}
