/**
 * A thermal chamber as a first-order-plus-dead-time (FOPDT) plant, the model process engineers fit to
 * most heating processes:  τ·dT/dt = T_amb(t) + K·u(t − θ) − T,  with u ∈ [0, 1] the heater's duty.
 *
 * Integration is exact for a piecewise-constant input (T approaches its steady state with factor
 * e^(−dt/τ)), so the step size does not change the dynamics — what a control test needs in order to
 * compare autotune results with the analytical ultimate gain and period of the same K, τ, θ.
 * Ambient drifts sinusoidally; measurement noise is added to what the sensor reports, not to the state.
 * Relative humidity follows the chamber temperature at constant absolute humidity (Magnus formula).
 *
 * Faults (`params.faults`, each active from `atS` for `forS` seconds of plant time) are injected where
 * the real fault acts, so the same control code sees them as it would on a device:
 *  - `heater-stuck-on` (a welded contactor): the plant gets u = 1 whatever the relay line says; the
 *    dead time still applies (it is the transport from the element to the sensor).
 *  - `sensor-drift`: what `measure()` reports drifts linearly from the true temperature, by
 *    `driftCPerH` °C per hour since `atS`; the true temperature is untouched (the loop, holding the
 *    reading at its setpoint, moves the chamber instead). At the end the reading is true again
 *    (sensor recalibrated or replaced).
 *  - `door-open`: an added loss term, a second heat path to ambient in parallel with the walls:
 *    τ·dT/dt = T_amb + K·u − T − L·(T − T_amb), L = `lossFactor`. We model the physical cause (the
 *    opening conducts heat out) rather than picking a new τ and K by hand; it is the same as dividing
 *    both τ and K by (1 + L), i.e. the shorter time constant and the lower gain of a leakier chamber,
 *    with a single knob that keeps the two consistent.
 * Step boundaries are split at fault edges, so a fault starts and ends at its exact time whatever the
 * step size.
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
  /** Faults to inject, in plant time (seconds since the plant was made). */
  readonly faults?: readonly PlantFault[];
}

interface FaultWindow {
  /** Plant time the fault starts, s. */
  readonly atS: number;
  /** How long it lasts, s; absent = to the end of the run. */
  readonly forS?: number | undefined;
}

export type PlantFault =
  | (FaultWindow & { readonly kind: 'heater-stuck-on' })
  | (FaultWindow & { readonly kind: 'sensor-drift'; readonly driftCPerH: number })
  | (FaultWindow & { readonly kind: 'door-open'; readonly lossFactor: number });

export type PlantFaultKind = PlantFault['kind'];

const faultEndS = (f: FaultWindow) => f.atS + (f.forS ?? Number.POSITIVE_INFINITY);
const isActive = (f: FaultWindow, timeS: number) => timeS >= f.atS && timeS < faultEndS(f);

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
  readonly #faults: readonly PlantFault[];
  /** Every fault's start and end, sorted: where a step must be split. */
  readonly #edgesS: readonly number[];

  constructor(params: ThermalPlantParams, random?: Random) {
    if (!(params.tauS > 0)) throw new TypeError(`tauS must be > 0, got ${params.tauS}`);
    if (!(params.deadTimeS >= 0)) throw new TypeError(`deadTimeS must be >= 0, got ${params.deadTimeS}`);
    this.params = params;
    this.#random = random;
    this.#temperatureC = params.ambientC;
    this.#faults = params.faults ?? [];
    this.#faults.forEach(checkFault);
    this.#edgesS = this.#faults
      .flatMap((f) => [f.atS, faultEndS(f)])
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
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
    const endS = this.#timeS + dtS;
    // One segment per stretch without a fault edge, so a fault acts from its exact start.
    for (const edgeS of this.#edgesS) {
      if (edgeS > this.#timeS && edgeS < endS) this.#stepTo(edgeS, duty);
    }
    this.#stepTo(endS, duty);
  }

  /** What a sensor in the chamber reads now (with noise, and any sensor drift). */
  measure(): Environment {
    const noise = this.#random ? this.#random.normal() * this.params.noiseC : 0;
    const t = this.#temperatureC;
    const ambient = this.ambientAt(this.#timeS);
    const humidityPct = Math.min(
      100,
      (this.params.ambientHumidityPct * saturationHpa(ambient)) / saturationHpa(t),
    );
    return {
      temperatureC: t + noise + this.#sensorOffsetC(),
      humidityPct,
      pressurePa: this.params.pressurePa,
    };
  }

  #sensorOffsetC(): number {
    let offsetC = 0;
    for (const f of this.#faults) {
      if (f.kind === 'sensor-drift' && isActive(f, this.#timeS)) {
        offsetC += (f.driftCPerH * (this.#timeS - f.atS)) / 3600;
      }
    }
    return offsetC;
  }

  /** The extra heat loss of the open door(s) now, as a multiple of the walls' (0 when closed). */
  #extraLoss(): number {
    let loss = 0;
    for (const f of this.#faults)
      if (f.kind === 'door-open' && isActive(f, this.#timeS)) loss += f.lossFactor;
    return loss;
  }

  #stuckOn(): boolean {
    return this.#faults.some((f) => f.kind === 'heater-stuck-on' && isActive(f, this.#timeS));
  }

  #stepTo(end: number, duty: number): void {
    const u = this.#stuckOn() ? 1 : Math.min(1, Math.max(0, duty));
    const last = this.#pipeline[this.#pipeline.length - 1];
    if (!last || last[1] !== u) this.#pipeline.push([this.#timeS, u]);
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

  #integrate(dtS: number): void {
    if (dtS <= 0) return;
    const midS = this.#timeS + dtS / 2;
    // With an extra loss L the plant is τ/(1+L), K/(1+L) (see the header); L = 0 is the closed chamber.
    const leak = 1 + this.#extraLoss();
    const steady = this.ambientAt(midS) + (this.params.gainC * this.#effectiveDuty) / leak;
    this.#temperatureC = steady + (this.#temperatureC - steady) * Math.exp((-dtS * leak) / this.params.tauS);
  }
}

function checkFault(f: PlantFault, i: number): void {
  if (!(Number.isFinite(f.atS) && f.atS >= 0))
    throw new TypeError(`faults[${i}].atS must be >= 0, got ${f.atS}`);
  if (f.forS !== undefined && !(f.forS > 0))
    throw new TypeError(`faults[${i}].forS must be > 0, got ${f.forS}`);
  if (f.kind === 'sensor-drift' && !Number.isFinite(f.driftCPerH)) {
    throw new TypeError(`faults[${i}].driftCPerH must be a finite number, got ${f.driftCPerH}`);
  }
  if (f.kind === 'door-open' && !(Number.isFinite(f.lossFactor) && f.lossFactor > 0)) {
    throw new TypeError(`faults[${i}].lossFactor must be > 0, got ${f.lossFactor}`);
  }
}

/** Saturation vapour pressure over water (Magnus formula, Alduchov & Eskridge 1996), hPa. */
function saturationHpa(temperatureC: number): number {
  return 6.1094 * Math.exp((17.625 * temperatureC) / (temperatureC + 243.04));
}
