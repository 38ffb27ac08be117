/**
 * A thermal chamber as a first-order-plus-dead-time (FOPDT) plant, the model process engineers fit to
 * most heating processes:  τ·dT/dt = T_amb(t) + K·u(t − θ) − T,  with u ∈ [0, 1] the heater's duty.
 *
 * Integration is exact for a piecewise-constant input (T approaches its steady state with factor
 * e^(−dt/τ)), so the step size does not change the dynamics — what a control test needs in order to
 * compare autotune results with the analytical ultimate gain and period of the same K, τ, θ.
 * Ambient drifts sinusoidally; measurement noise is added to what the sensor reports, not to the state.
 * Relative humidity follows the chamber temperature at constant absolute humidity (Magnus formula).
 */
import type { Random } from './random.js';

export interface ThermalPlantParams {
  /** Mean ambient temperature, °C. */
  readonly ambientC: number;
  /** Steady-state rise at full heater power, K. */
  readonly gainC: number;
  /** Time constant τ, seconds. */
  readonly tauS: number;
  /** Dead time θ, seconds. */
  readonly deadTimeS: number;
  /** Standard deviation of measurement noise, K. */
  readonly noiseC: number;
  /** Amplitude and period of the ambient drift. */
  readonly driftC: number;
  readonly driftPeriodS: number;
  /** Relative humidity at ambient temperature, %. */
  readonly ambientHumidityPct: number;
  readonly pressurePa: number;
}

export const DEFAULT_THERMAL_PLANT: ThermalPlantParams = {
  ambientC: 21,
  gainC: 60,
  tauS: 240,
  deadTimeS: 10,
  noiseC: 0.03,
  driftC: 0.5,
  driftPeriodS: 3600,
  ambientHumidityPct: 45,
  pressurePa: 101_325,
};

export interface Environment {
  readonly temperatureC: number;
  readonly humidityPct: number;
  readonly pressurePa: number;
}

export class ThermalPlant {
  readonly params: ThermalPlantParams;
  readonly #random: Random | undefined;
  #temperatureC: number;
  #timeS = 0;
  /** Heater inputs waiting out the dead time: [time applied, duty]. */
  #pipeline: [number, number][] = [];
  #effectiveDuty = 0;

  constructor(params: ThermalPlantParams, random?: Random) {
    if (!(params.tauS > 0)) throw new TypeError(`tauS must be > 0, got ${params.tauS}`);
    if (!(params.deadTimeS >= 0)) throw new TypeError(`deadTimeS must be >= 0, got ${params.deadTimeS}`);
    this.params = params;
    this.#random = random;
    this.#temperatureC = params.ambientC;
  }

  /** True (noise-free) chamber temperature. */
  get temperatureC(): number {
    return this.#temperatureC;
  }

  get timeS(): number {
    return this.#timeS;
  }

  ambientAt(timeS: number): number {
    const p = this.params;
    return (
      p.ambientC + (p.driftPeriodS > 0 ? p.driftC * Math.sin((2 * Math.PI * timeS) / p.driftPeriodS) : 0)
    );
  }

  /** Advances the plant by `dtS` seconds with the heater at `duty` (0–1) from now on. */
  step(dtS: number, duty: number): void {
    if (!(dtS >= 0)) throw new TypeError(`dtS must be >= 0, got ${dtS}`);
    const u = Math.min(1, Math.max(0, duty));
    const last = this.#pipeline[this.#pipeline.length - 1];
    if (!last || last[1] !== u) this.#pipeline.push([this.#timeS, u]);
    const end = this.#timeS + dtS;
    // Integrate piecewise: the delayed input changes when a queued input's dead time elapses.
    while (this.#timeS < end) {
      const next = this.#pipeline[0];
      const dueS = next ? next[0] + this.params.deadTimeS : Number.POSITIVE_INFINITY;
      if (next && dueS <= this.#timeS) {
        this.#effectiveDuty = next[1];
        this.#pipeline.shift();
        continue;
      }
      const segmentEnd = Math.min(end, dueS);
      this.#integrate(segmentEnd - this.#timeS);
      this.#timeS = segmentEnd;
    }
  }

  /** What a sensor in the chamber reads now (with noise). */
  measure(): Environment {
    const noise = this.#random ? this.#random.normal() * this.params.noiseC : 0;
    const t = this.#temperatureC;
    const ambient = this.ambientAt(this.#timeS);
    const humidityPct = Math.min(
      100,
      (this.params.ambientHumidityPct * saturationHpa(ambient)) / saturationHpa(t),
    );
    return { temperatureC: t + noise, humidityPct, pressurePa: this.params.pressurePa };
  }

  #integrate(dtS: number): void {
    if (dtS <= 0) return;
    const midS = this.#timeS + dtS / 2;
    const steady = this.ambientAt(midS) + this.params.gainC * this.#effectiveDuty;
    this.#temperatureC = steady + (this.#temperatureC - steady) * Math.exp(-dtS / this.params.tauS);
  }
}

/** Saturation vapour pressure over water (Magnus formula, Alduchov & Eskridge 1996), hPa. */
function saturationHpa(temperatureC: number): number {
  return 6.1094 * Math.exp((17.625 * temperatureC) / (temperatureC + 243.04));
}
