/**
 * Relay autotuning after Åström & Hägglund ("Automatic tuning of simple regulators with specifications
 * on phase and amplitude margins", Automatica 20(5), 1984): replace the PID by a relay with hysteresis
 * around a bias output; the loop settles into a limit cycle at (close to) the frequency where the plant's
 * phase is −180°, and the describing function of the relay turns the cycle's amplitude into the ultimate
 * gain: Ku = 4d / (π·√(a² − ε²)), Pu = the period (d: half the output swing, a: half the input's
 * peak-to-peak, ε: the hysteresis). The caller owns the clock and the loop; `step` is called once per
 * sample with the measurement and returns the output to apply, or the result, or why it gave up.
 * Restoring the loop's previous tunings and mode afterwards is the caller's job.
 *
 * The describing function is an approximation: it assumes the plant passes only the fundamental of the
 * relay's square wave. For a first-order-plus-dead-time plant the exact limit cycle is known (half period
 * θ + τ·ln(2 − e^(−θ/τ)), amplitude K·d·(1 − e^(−θ/τ))), and against it the classic Ku is low by 19 % as
 * θ/τ → 0 (the input is a triangle, whose fundamental is 8/π² of its peak), 15 % at θ/τ = 0.5, 11 % at 1,
 * about right near 2.5, and up to 27 % high as θ/τ → ∞ (a square wave: 4/π); Pu is within 5 %
 * throughout. So this module also reports `kuFundamental`, the ratio of the first harmonics of output and
 * input measured over each cycle, which is 1/|G(iω)| at the oscillation frequency whatever the waveform,
 * and is within a few per cent of the true Ku for 0.3 ≤ θ/τ ≤ 2.5 (see test/unit/control/autotune.test.ts).
 * `ultimateFromFopdt` gives the exact values for a FOPDT model, and `tuningsFromUltimate` turns (Ku, Pu)
 * into PID gains by a named rule.
 */
import type { PidTunings } from './types.js';

export interface RelayAutotunerOptions {
  /** The input value the relay oscillates around. */
  readonly setpoint: number;
  /** Relay outputs, either as high/low … */
  readonly outputHigh?: number;
  readonly outputLow?: number;
  /** … or as bias ± amplitude (use the loop's current steady output as the bias). */
  readonly bias?: number;
  readonly amplitude?: number;
  /** ε: the relay switches when the input crosses setpoint ± hysteresis (keep it above the noise). */
  readonly hysteresis: number;
  /** Full cycles to measure after the first one (discarded as transient); median of these. Default 4. */
  readonly cycles?: number;
  /** Give up after this long (from the first step). */
  readonly maxDurationMs: number;
  /** Abort if the input goes above / below these (plant protection). */
  readonly maxInput?: number;
  readonly minInput?: number;
  /** `direct` (default): more output raises the input. `reverse`: it lowers it (cooling). */
  readonly direction?: 'direct' | 'reverse';
}

/** One full relay cycle, from one raising→lowering switch of the relay to the next. */
export interface AutotuneCycle {
  readonly periodS: number;
  readonly maxInput: number;
  readonly minInput: number;
  /** |U₁|/|Y₁|: the ratio of the first harmonics of output and input over the cycle. */
  readonly kuFundamental: number;
  /**
   * arg(Y₁/U₁) in (−360°, 0°]: the plant's phase at the oscillation frequency (−180° at the ultimate),
   * for a reverse-acting plant without the 180° of its negative gain.
   */
  readonly phaseDeg: number;
}

export interface AutotuneResult {
  /** Ultimate gain by the describing function, 4d/(π·√(a² − ε²)), output units per input unit. */
  readonly ku: number;
  /**
   * Ultimate gain from the first harmonics of the measured output and input (median over the cycles):
   * for a linear plant it is exactly 1/|G(iω)| at the oscillation frequency, free of the describing
   * function's waveform assumption. What error remains comes from that frequency missing the −180° one:
   * sampling and hysteresis add lag, which matters when θ is only a few samples (≈ −11 % on the default
   * chamber, θ = 10 s at 1 s samples, against −27 % for `ku`).
   */
  readonly kuFundamental: number;
  /** The plant's phase at the oscillation frequency; near −180° means ω is close to the ultimate one. */
  readonly phaseDeg: number;
  /** Ultimate period, seconds. */
  readonly puS: number;
  /** a: half the input's peak-to-peak (median over the measured cycles). */
  readonly amplitude: number;
  /** d: half the relay's output swing. */
  readonly relayAmplitude: number;
  readonly hysteresis: number;
  /** Every cycle measured, the first (transient) one included. */
  readonly cycles: readonly AutotuneCycle[];
  readonly elapsedMs: number;
}

export type AutotuneAbortCode = 'max-input' | 'min-input' | 'timeout' | 'no-oscillation';

export type AutotuneStep =
  | { readonly output: number }
  | { readonly done: AutotuneResult }
  | {
      readonly aborted: string;
      readonly code: AutotuneAbortCode;
      readonly elapsedMs: number;
      /** Cycles measured before giving up, for the operator's diagnosis. */
      readonly cycles: readonly AutotuneCycle[];
    };

export class RelayAutotuner {
  readonly #setpoint: number;
  readonly #high: number;
  readonly #low: number;
  readonly #hysteresis: number;
  readonly #cycles: number;
  readonly #maxDurationMs: number;
  readonly #maxInput: number;
  readonly #minInput: number;
  readonly #sign: 1 | -1;
  #startMs: number | undefined;
  #lastMs = Number.NEGATIVE_INFINITY;
  /** Whether the relay is at the high output (the one that raises x, see `step`). */
  #raising = false;
  #lastFallSwitchMs: number | undefined;
  #samples: CycleSample[] = [];
  #measured: AutotuneCycle[] = [];
  #switches = 0;
  #final: AutotuneStep | undefined;

  constructor(options: RelayAutotunerOptions) {
    requireFinite(options.setpoint, 'setpoint');
    const hasHighLow = options.outputHigh !== undefined || options.outputLow !== undefined;
    const hasBias = options.bias !== undefined || options.amplitude !== undefined;
    if (hasHighLow === hasBias) {
      throw new TypeError('give either outputHigh and outputLow, or bias and amplitude');
    }
    let high: number;
    let low: number;
    if (hasHighLow) {
      high = requireFinite(options.outputHigh, 'outputHigh');
      low = requireFinite(options.outputLow, 'outputLow');
    } else {
      const bias = requireFinite(options.bias, 'bias');
      const amplitude = requireFinite(options.amplitude, 'amplitude');
      high = bias + amplitude;
      low = bias - amplitude;
    }
    if (!(high > low)) throw new TypeError(`outputHigh must be > outputLow (${high} <= ${low})`);
    const hysteresis = requireFinite(options.hysteresis, 'hysteresis');
    if (hysteresis < 0) throw new TypeError(`hysteresis must be >= 0, got ${hysteresis}`);
    const cycles = options.cycles ?? 4;
    if (!(Number.isInteger(cycles) && cycles >= 1)) throw new TypeError(`cycles must be an integer >= 1`);
    if (!(options.maxDurationMs > 0)) {
      throw new TypeError(`maxDurationMs must be > 0, got ${options.maxDurationMs}`);
    }
    const maxInput = options.maxInput ?? Number.POSITIVE_INFINITY;
    const minInput = options.minInput ?? Number.NEGATIVE_INFINITY;
    if (Number.isNaN(maxInput) || Number.isNaN(minInput) || !(maxInput > minInput)) {
      throw new TypeError('maxInput must be > minInput');
    }
    const direction = options.direction ?? 'direct';
    if (direction !== 'direct' && direction !== 'reverse') {
      throw new TypeError(`direction must be 'direct' or 'reverse'`);
    }
    this.#setpoint = options.setpoint;
    this.#high = high;
    this.#low = low;
    this.#hysteresis = hysteresis;
    this.#cycles = cycles;
    this.#maxDurationMs = options.maxDurationMs;
    this.#maxInput = maxInput;
    this.#minInput = minInput;
    this.#sign = direction === 'direct' ? 1 : -1;
  }

  /** One sample: the output to apply until the next call, or the final result (repeated thereafter). */
  step(input: number, nowMonoMs: number): AutotuneStep {
    requireFinite(input, 'input');
    requireFinite(nowMonoMs, 'nowMonoMs');
    if (this.#final) return this.#final;
    if (nowMonoMs < this.#lastMs) throw new TypeError(`nowMonoMs went backwards (${nowMonoMs})`);
    this.#lastMs = nowMonoMs;
    if (this.#startMs === undefined) {
      this.#startMs = nowMonoMs;
      // Start on the side that drives the input towards the setpoint.
      this.#raising = this.#sign * (input - this.#setpoint) < 0;
    }
    const elapsedMs = nowMonoMs - this.#startMs;
    if (input > this.#maxInput) {
      return this.#abort('max-input', `input ${input} above maxInput ${this.#maxInput}`, elapsedMs);
    }
    if (input < this.#minInput) {
      return this.#abort('min-input', `input ${input} below minInput ${this.#minInput}`, elapsedMs);
    }
    if (elapsedMs >= this.#maxDurationMs) return this.#timeout(elapsedMs);

    // x moves with the output (the input's deviation, negated for a reverse-acting plant), so the high
    // output always raises x and the relay logic is the same in both directions.
    const x = this.#sign * (input - this.#setpoint);
    let closed = false;
    if (this.#raising && x > this.#hysteresis) {
      this.#raising = false;
      this.#switches++;
      closed = true;
    } else if (!this.#raising && x < -this.#hysteresis) {
      this.#raising = true;
      this.#switches++;
    }
    const output = this.#raising ? this.#high : this.#low;
    if (closed) {
      const result = this.#closeCycle(nowMonoMs, elapsedMs);
      if (result) return result;
    }
    // Samples are kept from the first raising→lowering switch on, one cycle at a time.
    if (this.#lastFallSwitchMs !== undefined) this.#samples.push({ tMs: nowMonoMs, input, output });
    return { output };
  }

  /** At each raising→lowering switch a full cycle ends (the period is switch to switch). */
  #closeCycle(nowMonoMs: number, elapsedMs: number): AutotuneStep | undefined {
    if (this.#lastFallSwitchMs !== undefined && this.#samples.length >= 2) {
      this.#measured.push(analyseCycle(this.#samples, this.#lastFallSwitchMs, nowMonoMs, this.#sign));
    }
    this.#lastFallSwitchMs = nowMonoMs;
    this.#samples = [];
    // The first cycle still carries the approach from the starting point: measure `cycles` more.
    if (this.#measured.length < this.#cycles + 1) return undefined;
    const recent = this.#measured.slice(-this.#cycles);
    const amplitude = median(recent.map((c) => (c.maxInput - c.minInput) / 2));
    const puS = median(recent.map((c) => c.periodS));
    if (!(amplitude > this.#hysteresis)) {
      return this.#abort(
        'no-oscillation',
        `oscillation amplitude ${amplitude} not above the hysteresis ${this.#hysteresis}`,
        elapsedMs,
      );
    }
    const d = (this.#high - this.#low) / 2;
    // Relay with hysteresis: −1/N(a) = −(π/4d)(√(a² − ε²) + iε); taking its real part as the −180°
    // point puts √(a² − ε²) in place of a (Åström & Hägglund 1984; exact only as ε → 0).
    const ku = (4 * d) / (Math.PI * Math.sqrt(amplitude * amplitude - this.#hysteresis * this.#hysteresis));
    this.#final = {
      done: {
        ku,
        kuFundamental: median(recent.map((c) => c.kuFundamental)),
        phaseDeg: median(recent.map((c) => c.phaseDeg)),
        puS,
        amplitude,
        relayAmplitude: d,
        hysteresis: this.#hysteresis,
        cycles: [...this.#measured],
        elapsedMs,
      },
    };
    return this.#final;
  }

  /** Out of time: with fewer than three switches there was never a cycle to measure. */
  #timeout(elapsedMs: number): AutotuneStep {
    if (this.#switches < 3) {
      return this.#abort(
        'no-oscillation',
        `no oscillation within maxDurationMs ${this.#maxDurationMs}: the relay switched ${this.#switches} ` +
          'times (can the relay amplitude move the input across setpoint ± hysteresis?)',
        elapsedMs,
      );
    }
    const complete = Math.max(0, this.#measured.length - 1);
    return this.#abort(
      'timeout',
      `maxDurationMs ${this.#maxDurationMs} elapsed after ${complete} of ${this.#cycles} cycles`,
      elapsedMs,
    );
  }

  #abort(code: AutotuneAbortCode, reason: string, elapsedMs: number): AutotuneStep {
    this.#final = { aborted: reason, code, elapsedMs, cycles: [...this.#measured] };
    return this.#final;
  }
}

interface CycleSample {
  readonly tMs: number;
  readonly input: number;
  /** The output applied from `tMs` until the next sample. */
  readonly output: number;
}

/**
 * Period, extremes and first-harmonic ratio of one cycle [startMs, endMs). Each sample is held until the
 * next one (the output really is piecewise constant), and e^(−iωt) is integrated exactly over each hold,
 * so the Fourier coefficients do not depend on the sample period being regular.
 */
function analyseCycle(
  samples: readonly CycleSample[],
  startMs: number,
  endMs: number,
  sign: 1 | -1,
): AutotuneCycle {
  const periodS = (endMs - startMs) / 1000;
  const omega = (2 * Math.PI) / periodS;
  let yRe = 0;
  let yIm = 0;
  let uRe = 0;
  let uIm = 0;
  let maxInput = Number.NEGATIVE_INFINITY;
  let minInput = Number.POSITIVE_INFINITY;
  for (let k = 0; k < samples.length; k++) {
    const s = samples[k] as CycleSample;
    const t0 = (s.tMs - startMs) / 1000;
    const t1 = ((samples[k + 1]?.tMs ?? endMs) - startMs) / 1000;
    // ∫ e^(−iωt) dt over [t0, t1] = (sin ωt1 − sin ωt0)/ω − i(cos ωt0 − cos ωt1)/ω
    const re = (Math.sin(omega * t1) - Math.sin(omega * t0)) / omega;
    const im = -(Math.cos(omega * t0) - Math.cos(omega * t1)) / omega;
    // sign: a reverse-acting plant's phase is reported without its gain's extra 180°.
    yRe += sign * s.input * re;
    yIm += sign * s.input * im;
    uRe += s.output * re;
    uIm += s.output * im;
    maxInput = Math.max(maxInput, s.input);
    minInput = Math.min(minInput, s.input);
  }
  let phaseDeg = ((Math.atan2(yIm, yRe) - Math.atan2(uIm, uRe)) * 180) / Math.PI;
  while (phaseDeg > 0) phaseDeg -= 360;
  while (phaseDeg <= -360) phaseDeg += 360;
  return {
    periodS,
    maxInput,
    minInput,
    kuFundamental: Math.hypot(uRe, uIm) / Math.hypot(yRe, yIm),
    phaseDeg,
  };
}

export interface FopdtModel {
  /** Steady-state gain K, input units per output unit (sign ignored). */
  readonly gain: number;
  readonly tauS: number;
  readonly deadTimeS: number;
}

/**
 * The exact ultimate gain and period of a FOPDT plant K·e^(−θs)/(τs + 1): the phase crossover ω solves
 * θω + atan(τω) = π (found by bisection on (0, π/θ), where the left side rises monotonically from 0
 * past π); Ku = √(1 + (τω)²)/|K|, Pu = 2π/ω.
 */
export function ultimateFromFopdt(model: FopdtModel): { readonly ku: number; readonly puS: number } {
  const k = Math.abs(requireFinite(model.gain, 'gain'));
  if (!(k > 0)) throw new TypeError('gain must be non-zero');
  if (!(model.tauS > 0 && Number.isFinite(model.tauS)))
    throw new TypeError(`tauS must be > 0, got ${model.tauS}`);
  // Without dead time the phase never reaches −180°: the ultimate gain is infinite.
  if (!(model.deadTimeS > 0 && Number.isFinite(model.deadTimeS))) {
    throw new TypeError(`deadTimeS must be > 0, got ${model.deadTimeS}`);
  }
  const { tauS, deadTimeS } = model;
  let lo = 0;
  let hi = Math.PI / deadTimeS;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (deadTimeS * mid + Math.atan(tauS * mid) < Math.PI) lo = mid;
    else hi = mid;
  }
  const omega = (lo + hi) / 2;
  return { ku: Math.sqrt(1 + (tauS * omega) ** 2) / k, puS: (2 * Math.PI) / omega };
}

export type TuningRule = 'ziegler-nichols-pid' | 'tyreus-luyben-pi' | 'tyreus-luyben-pid' | 'no-overshoot';

/** Kp as a fraction of Ku, Ti and Td as fractions of Pu (Td 0 = PI). */
const RULES: Record<TuningRule, { readonly kp: number; readonly ti: number; readonly td: number }> = {
  // Ziegler & Nichols, "Optimum settings for automatic controllers", Trans. ASME 64, 1942: quarter decay.
  'ziegler-nichols-pid': { kp: 0.6, ti: 0.5, td: 0.125 },
  // Tyreus & Luyben, "Tuning PI controllers for integrator/dead time processes", Ind. Eng. Chem. Res. 31,
  // 1992: less aggressive than Z–N, for lag-dominant and integrating processes.
  'tyreus-luyben-pi': { kp: 1 / 3.2, ti: 2.2, td: 0 },
  'tyreus-luyben-pid': { kp: 1 / 2.2, ti: 2.2, td: 1 / 6.3 },
  // The "no overshoot" row of the extended Z–N table as commonly tabulated (no primary source known).
  'no-overshoot': { kp: 0.2, ti: 0.5, td: 1 / 3 },
};

/** PID gains from the ultimate gain and period by a named rule: ki = kp/Ti, kd = kp·Td. */
export function tuningsFromUltimate(ku: number, puS: number, rule: TuningRule): PidTunings {
  if (!(Number.isFinite(ku) && ku > 0)) throw new TypeError(`ku must be > 0, got ${ku}`);
  if (!(Number.isFinite(puS) && puS > 0)) throw new TypeError(`puS must be > 0, got ${puS}`);
  const r = RULES[rule];
  if (!r) throw new TypeError(`rule must be one of ${Object.keys(RULES).join(', ')}, got ${String(rule)}`);
  const kp = r.kp * ku;
  const tiS = r.ti * puS;
  const tdS = r.td * puS;
  return { kp, ki: kp / tiS, kd: kp * tdS };
}

function requireFinite(value: number | undefined, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number, got ${value}`);
  }
  return value;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
