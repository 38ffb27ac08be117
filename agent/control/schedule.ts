/**
 * Gain scheduling: one set of PID tunings per operating region of a scheduling variable (a point such as
 * the chamber temperature or the setpoint), because a plant's gain and time constants change with the
 * operating point (Åström & Hägglund, "PID Controllers: Theory, Design and Tuning", 1995, on gain
 * scheduling; autotune each region and store the result with `setRegionTunings`). Regions are contiguous
 * intervals [from, to); the first extends down to −∞ and the last up to +∞ whatever their bounds say.
 * Once a region is selected it stays selected until the value leaves [from − hysteresis, to + hysteresis),
 * so a value sitting on a boundary does not make the loop chatter between two sets of gains. The switch
 * is bumpless because `Pid.setTunings` is.
 */
import type { PidTunings } from './types.js';

export interface GainRegion {
  readonly name: string;
  /** Lower bound (inclusive); may be omitted on the first region. */
  readonly from?: number;
  /** Upper bound (exclusive); may be omitted on the last region. */
  readonly to?: number;
  readonly tunings: PidTunings;
}

export interface GainScheduleOptions {
  /** Ascending and contiguous: each region's `to` equals the next one's `from` (either may be omitted). */
  readonly regions: readonly GainRegion[];
  /** How far past a boundary the value must go before the region changes, in the variable's units. */
  readonly hysteresis: number;
}

export interface GainSelection {
  readonly region: string;
  readonly tunings: PidTunings;
  /** True when this call changed the region (always true on the first call). */
  readonly changed: boolean;
}

export class GainSchedule {
  readonly #names: readonly string[];
  readonly #tunings: PidTunings[];
  /** boundaries[i] separates region i from region i + 1. */
  readonly #boundaries: readonly number[];
  readonly #hysteresis: number;
  #current: number | undefined;

  constructor(options: GainScheduleOptions) {
    const { regions, hysteresis } = options;
    if (!Array.isArray(regions) || regions.length === 0) throw new TypeError('regions must not be empty');
    if (!(Number.isFinite(hysteresis) && hysteresis >= 0)) {
      throw new TypeError(`hysteresis must be a finite number >= 0, got ${hysteresis}`);
    }
    const names = regions.map((r) => r.name);
    if (names.some((n) => typeof n !== 'string' || n === ''))
      throw new TypeError('regions[].name must be set');
    if (new Set(names).size !== names.length) throw new TypeError('regions[].name must be unique');
    const boundaries: number[] = [];
    for (let i = 0; i + 1 < regions.length; i++) {
      const a = regions[i] as GainRegion;
      const b = regions[i + 1] as GainRegion;
      const boundary = a.to ?? b.from;
      if (boundary === undefined || !Number.isFinite(boundary)) {
        throw new TypeError(`regions[${i}].to or regions[${i + 1}].from must be a finite number`);
      }
      if (a.to !== undefined && b.from !== undefined && a.to !== b.from) {
        throw new TypeError(`regions[${i}].to (${a.to}) must equal regions[${i + 1}].from (${b.from})`);
      }
      const previous = boundaries[boundaries.length - 1];
      if (previous !== undefined && !(boundary > previous)) {
        throw new TypeError(`regions must be ascending: regions[${i}] is empty or reversed`);
      }
      if (a.from !== undefined && !(boundary > a.from)) throw new TypeError(`regions[${i}] is empty`);
      boundaries.push(boundary);
    }
    this.#names = names;
    this.#tunings = regions.map((r, i) => checkTunings(r.tunings, `regions[${i}].tunings`));
    this.#boundaries = boundaries;
    this.#hysteresis = hysteresis;
  }

  /** The selected region's name, undefined before the first `select`. */
  get current(): string | undefined {
    return this.#current === undefined ? undefined : this.#names[this.#current];
  }

  /** Picks the region for `value`, keeping the current one while within its bounds ± hysteresis. */
  select(value: number): GainSelection {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new TypeError(`value must be a finite number, got ${value}`);
    }
    const current = this.#current;
    let index: number;
    if (current !== undefined && this.#within(current, value)) {
      index = current;
    } else {
      index = this.#boundaries.findIndex((b) => value < b);
      if (index === -1) index = this.#boundaries.length;
    }
    this.#current = index;
    return {
      region: this.#names[index] as string,
      tunings: this.#tunings[index] as PidTunings,
      changed: index !== current,
    };
  }

  /** Stores new tunings for a region (an autotune result); `select` returns them from then on. */
  setRegionTunings(name: string, tunings: PidTunings): void {
    const index = this.#names.indexOf(name);
    if (index === -1) throw new TypeError(`name must be one of ${this.#names.join(', ')}, got ${name}`);
    this.#tunings[index] = checkTunings(tunings, 'tunings');
  }

  tuningsOf(name: string): PidTunings | undefined {
    const index = this.#names.indexOf(name);
    return index === -1 ? undefined : this.#tunings[index];
  }

  #within(index: number, value: number): boolean {
    const lower = index === 0 ? Number.NEGATIVE_INFINITY : (this.#boundaries[index - 1] as number);
    const upper =
      index === this.#boundaries.length ? Number.POSITIVE_INFINITY : (this.#boundaries[index] as number);
    return value >= lower - this.#hysteresis && value < upper + this.#hysteresis;
  }
}

function checkTunings(tunings: PidTunings, name: string): PidTunings {
  for (const key of ['kp', 'ki', 'kd'] as const) {
    const v = tunings?.[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new TypeError(`${name}.${key} must be a finite number >= 0, got ${v}`);
    }
  }
  return { kp: tunings.kp, ki: tunings.ki, kd: tunings.kd };
}
