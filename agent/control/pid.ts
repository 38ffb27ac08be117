/**
 * A discrete PID controller with every refinement of Brett Beauregard's "Improving the Beginner's PID"
 * series (2011: #1 sample time, #2 derivative kick, #3 tuning changes, #4 reset windup, #5 on/off,
 * #6 initialisation, #7 direction; plus "Introducing Proportional on Measurement", 2017), the
 * back-calculation anti-windup and bumpless parameter changes of Åström & Hägglund ("PID Controllers:
 * Theory, Design and Tuning", 1995, ch. 3), and a first-order derivative filter. It is a pure algorithm: the caller passes
 * the measurement and setpoint once per fixed sample period (`sampleMs`) and writes the returned output;
 * there are no timers and no clock inside, so the loop runtime owns scheduling and tests own time.
 *
 * Gains are the continuous-time ones of `PidTunings` (kp, ki per second, kd in seconds); ki·dt and 1/dt
 * are precomputed and rescaled with the sample time (#1). The derivative is kd times a (filtered) rate
 * of the measurement per second rather than a precomputed kd/dt times a difference — the same number,
 * but a gain change can then be rebased on the rate estimate. The integral is kept as an output
 * contribution (#3) so that it survives retuning, limit changes and mode transfers without a bump.
 */
import type { LoopMode, PidTunings } from './types.js';

/** `direct`: more output raises the input (heating). `reverse`: more output lowers it (cooling). */
export type PidDirection = 'direct' | 'reverse';

/** Where the proportional term acts: on the error (classic) or on the measurement (Beauregard's PonM). */
export type ProportionalOn = 'error' | 'measurement';

/**
 * `back-calculation` (default): while the output saturates, the integral tracks the saturated output
 * with time constant Tt (Åström & Hägglund); `clamp`: Beauregard's #4, the integral (plus the PonM
 * term) is clamped to the output limits; `none`: the textbook integrator that winds up (for comparison).
 * Both protected modes clamp the integral when the limits change (#4).
 */
export type AntiWindup = 'back-calculation' | 'clamp' | 'none';

export interface PidOptions {
  readonly tunings: PidTunings;
  /** The fixed period at which `compute` is called. */
  readonly sampleMs: number;
  readonly outMin: number;
  readonly outMax: number;
  /** Default `direct`. */
  readonly direction?: PidDirection;
  /** Default `error`. */
  readonly pOn?: ProportionalOn;
  /** Default `back-calculation`. */
  readonly antiWindup?: AntiWindup;
  /**
   * Tracking time constant Tt for back-calculation. Default √(Ti·Td), or Ti when Td = 0 (Åström &
   * Hägglund's rule of thumb: Tt between Td and Ti).
   */
  readonly trackingTimeS?: number;
  /** Derivative filter N: Tf = Td/N (classic values 8–20); 0 or absent = unfiltered. */
  readonly derivativeFilterN?: number;
  /** Default `auto`. */
  readonly mode?: LoopMode;
  /** Starting output (and integral term); clamped to the limits. Default 0 clamped to the limits. */
  readonly initialOutput?: number;
}

/** The contributions that made the last output, in output units (for diagnostics). */
export interface PidTerms {
  readonly p: number;
  readonly i: number;
  readonly d: number;
}

/** What the process looks like at a mode transfer: both optional, default the last values seen. */
export interface PidTransfer {
  readonly input?: number;
  readonly output?: number;
}

export class Pid {
  #tunings: PidTunings;
  #sampleMs: number;
  #outMin: number;
  #outMax: number;
  #sign: 1 | -1;
  readonly #pOnMeasurement: boolean;
  readonly #antiWindup: AntiWindup;
  readonly #trackingTimeS: number | undefined;
  readonly #filterN: number;

  // Per-sample coefficients, recomputed whenever tunings or the sample time change (#1).
  #kiDt = 0;
  #perSampleS = 1;
  /** Derivative filter pole, Tf/(Tf + dt): 0 = unfiltered. */
  #filterPole = 0;
  #trackingFactor = 0;

  #mode: LoopMode;
  #output: number;
  /** Integral contribution, output units (#3): retuning ki does not rescale the past. */
  #iTerm: number;
  /** Proportional-on-measurement contribution, accumulated like the integral (PonM post). */
  #pmTerm = 0;
  #pTerm = 0;
  #dTerm = 0;
  /**
   * The measurement's (filtered) rate of change, input units per second. Kept instead of the D term so
   * that new gains act on the same estimate and the change can be rebased into the integral.
   */
  #inputRatePerS = 0;
  // NaN rather than undefined for "none yet": a field that only ever holds numbers stays an unboxed
  // double in V8, where a number | undefined field boxes every store (measured: ~25 % of compute time).
  #lastInput = Number.NaN;
  /** setpoint − input at the last sample, before the direction's sign. */
  #lastErrorRaw = Number.NaN;
  /** The next compute re-derives the integral from `#output` instead of integrating (bumpless transfer). */
  #transferPending = false;

  constructor(options: PidOptions) {
    this.#tunings = checkTunings(options.tunings);
    this.#sampleMs = checkSampleMs(options.sampleMs);
    checkLimits(options.outMin, options.outMax);
    this.#outMin = options.outMin;
    this.#outMax = options.outMax;
    this.#sign = checkDirection(options.direction ?? 'direct');
    const pOn = options.pOn ?? 'error';
    if (pOn !== 'error' && pOn !== 'measurement') throw new TypeError(`pOn must be 'error' or 'measurement'`);
    this.#pOnMeasurement = pOn === 'measurement';
    const antiWindup = options.antiWindup ?? 'back-calculation';
    if (!['back-calculation', 'clamp', 'none'].includes(antiWindup)) {
      throw new TypeError(`antiWindup must be 'back-calculation', 'clamp' or 'none'`);
    }
    this.#antiWindup = antiWindup;
    if (options.trackingTimeS !== undefined && !(options.trackingTimeS > 0)) {
      throw new TypeError(`trackingTimeS must be > 0, got ${options.trackingTimeS}`);
    }
    this.#trackingTimeS = options.trackingTimeS;
    const n = options.derivativeFilterN ?? 0;
    if (!(n >= 0 && Number.isFinite(n))) throw new TypeError(`derivativeFilterN must be >= 0, got ${n}`);
    this.#filterN = n;
    const mode = options.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'manual') throw new TypeError(`mode must be 'auto' or 'manual'`);
    this.#mode = mode;
    const initial = options.initialOutput ?? 0;
    requireFinite(initial, 'initialOutput');
    this.#output = this.#clamp(initial);
    this.#iTerm = this.#output;
    this.#recompute();
  }

  get output(): number {
    return this.#output;
  }

  get mode(): LoopMode {
    return this.#mode;
  }

  get tunings(): PidTunings {
    return this.#tunings;
  }

  get sampleMs(): number {
    return this.#sampleMs;
  }

  get direction(): PidDirection {
    return this.#sign === 1 ? 'direct' : 'reverse';
  }

  get outputLimits(): { readonly min: number; readonly max: number } {
    return { min: this.#outMin, max: this.#outMax };
  }

  get terms(): PidTerms {
    return { p: this.#pTerm, i: this.#iTerm, d: this.#dTerm };
  }

  /**
   * One sample: returns the new output. Call exactly once per `sampleMs`. In manual mode the output is
   * held and only the input is remembered (for the transfer back to auto).
   */
  compute(input: number, setpoint: number): number {
    requireFinite(input, 'input');
    requireFinite(setpoint, 'setpoint');
    if (this.#mode === 'manual') {
      this.#lastInput = input;
      return this.#output;
    }
    const error = this.#sign * (setpoint - input);
    // #6: the very first sample has no previous input, so no derivative rather than a spike.
    const deltaInput = Number.isNaN(this.#lastInput) ? 0 : input - this.#lastInput;
    this.#lastInput = input;
    this.#lastErrorRaw = setpoint - input;

    if (this.#transferPending) {
      // Bumpless transfer (#5 and #6, extended per Åström & Hägglund 1995): solve for the integral that
      // reproduces the output the actuator already has, so the P term's current value is absorbed too.
      this.#transferPending = false;
      this.#pmTerm = 0;
      this.#dTerm = 0;
      this.#inputRatePerS = 0;
      this.#pTerm = this.#pOnMeasurement ? 0 : this.#tunings.kp * error;
      this.#iTerm = this.#output - this.#pTerm;
      // Under Beauregard's clamp the integral cannot hold u − P when P alone is past a limit, so the
      // transfer is bumpless only while |P| is within range; back-calculation has no such bound.
      if (this.#antiWindup === 'clamp') this.#limitIntegral();
      return this.#output;
    }

    this.#iTerm += this.#kiDt * error;
    // PonM: the proportional action is integrated from the measurement's changes, so a setpoint step
    // moves the output only through the integral (no proportional kick, less overshoot).
    if (this.#pOnMeasurement) this.#pmTerm -= this.#sign * this.#tunings.kp * deltaInput;
    if (this.#antiWindup === 'clamp') this.#limitIntegral();
    // #2: derivative on measurement, so a setpoint step gives no derivative kick. With N > 0 the
    // rate goes through the backward-difference discretisation of 1/(1 + s·Tf) (Åström & Wittenmark,
    // Computer-Controlled Systems), i.e. D = kd·s/(1 + s·Tf); with N = 0 it is the difference quotient.
    const ratePerS = deltaInput * this.#perSampleS;
    this.#inputRatePerS = this.#filterPole * this.#inputRatePerS + (1 - this.#filterPole) * ratePerS;
    this.#dTerm = -this.#sign * this.#tunings.kd * this.#inputRatePerS + 0; // + 0: no −0 in diagnostics
    this.#pTerm = this.#pOnMeasurement ? this.#pmTerm : this.#tunings.kp * error;
    const unsaturated = this.#pTerm + this.#iTerm + this.#dTerm;
    const output = this.#clamp(unsaturated);
    if (this.#antiWindup === 'back-calculation') {
      // Back-calculation (Åström & Hägglund 1995, "integrator windup"): feed the saturation excess back
      // into the integrator with gain dt/Tt so it tracks what the actuator can actually do. No clamp on
      // top: at equilibrium the tracking holds the integral at u − P + (Tt/Ti)·kp·e, which is bounded,
      // and may legitimately lie outside the limits while P is large (after a transfer).
      this.#iTerm += this.#trackingFactor * (output - unsaturated);
    }
    this.#output = output;
    return output;
  }

  /**
   * New gains, effective from the next sample. Bumpless: the integral is already an output contribution
   * (#3), and the step the new kp and kd would make in the P and D terms, on the last error and the
   * current rate estimate, is moved into the integral (Åström & Hägglund 1995, "bumpless parameter
   * changes"; without it a kp change steps the output by Δkp·e).
   */
  setTunings(tunings: PidTunings): void {
    const next = checkTunings(tunings);
    this.#rebase(next, this.#sign);
    this.#tunings = next;
    this.#recompute();
  }

  /** Changes the controller direction (Beauregard's #7), bumplessly like `setTunings`. */
  setDirection(direction: PidDirection): void {
    const sign = checkDirection(direction);
    if (sign === this.#sign) return;
    this.#rebase(this.#tunings, sign);
    this.#sign = sign;
  }

  /** #1: a new sample period rescales ki·dt and 1/dt so the controller's behaviour is unchanged. */
  setSampleTime(sampleMs: number): void {
    this.#sampleMs = checkSampleMs(sampleMs);
    this.#recompute();
  }

  /** #4: new limits clamp the current output and the integral term at once. */
  setOutputLimits(outMin: number, outMax: number): void {
    checkLimits(outMin, outMax);
    this.#outMin = outMin;
    this.#outMax = outMax;
    this.#output = this.#clamp(this.#output);
    this.#limitIntegral();
  }

  /**
   * Manual holds the output (`transfer.output` sets it); auto resumes control bumplessly from
   * `transfer.output` (default: the held output) and `transfer.input` (default: the last input seen):
   * the first compute after the switch returns that output unchanged (given an unchanged input) and sets
   * the integral from it. Switching to the mode already active only applies `transfer.output` in manual.
   */
  setMode(mode: LoopMode, transfer: PidTransfer = {}): void {
    if (mode !== 'auto' && mode !== 'manual') throw new TypeError(`mode must be 'auto' or 'manual'`);
    if (transfer.input !== undefined) requireFinite(transfer.input, 'transfer.input');
    if (transfer.output !== undefined) requireFinite(transfer.output, 'transfer.output');
    if (mode === 'manual') {
      this.#mode = 'manual';
      if (transfer.output !== undefined) this.#output = this.#clamp(transfer.output);
      if (transfer.input !== undefined) this.#lastInput = transfer.input;
      return;
    }
    if (this.#mode === 'auto') return;
    this.#mode = 'auto';
    this.#initialise(transfer.output ?? this.#output, transfer.input ?? this.#lastInput);
  }

  /** The output to hold in manual mode (clamped to the limits). Only valid in manual mode. */
  setManualOutput(output: number): void {
    requireFinite(output, 'output');
    if (this.#mode !== 'manual') throw new TypeError('setManualOutput needs manual mode');
    this.#output = this.#clamp(output);
  }

  /**
   * Follows an output imposed from outside (an interlock forcing the actuator) instead of computing:
   * call it every sample while the force lasts; the first `compute` after the force ends resumes from
   * the forced output without a bump. In manual mode only the input is remembered: the operator's
   * manual output is what resumes.
   */
  track(output: number, input: number): void {
    requireFinite(output, 'output');
    requireFinite(input, 'input');
    if (this.#mode === 'manual') {
      this.#lastInput = input;
      return;
    }
    this.#initialise(output, input);
  }

  #initialise(output: number, input: number): void {
    this.#output = this.#clamp(output);
    this.#lastInput = input;
    this.#transferPending = true;
  }

  /**
   * Moves the step that new gains or a new direction would cause in P and D, evaluated on the last
   * error and the current rate estimate, into the integral, so the next output continues from the last.
   */
  #rebase(next: PidTunings, sign: 1 | -1): void {
    if (this.#mode !== 'auto' || this.#transferPending || Number.isNaN(this.#lastErrorRaw)) return;
    if (!this.#pOnMeasurement) {
      this.#iTerm += (this.#sign * this.#tunings.kp - sign * next.kp) * this.#lastErrorRaw;
    }
    this.#iTerm -= (this.#sign * this.#tunings.kd - sign * next.kd) * this.#inputRatePerS;
  }

  #recompute(): void {
    const dtS = this.#sampleMs / 1000;
    const { kp, ki, kd } = this.#tunings;
    this.#kiDt = ki * dtS;
    this.#perSampleS = 1 / dtS;
    // Tf = Td/N with Td = kd/kp (undefined without a proportional gain, so the filter is then off).
    // The pole Tf/(Tf + dt) is written without Tf so that a tiny kp cannot make Tf infinite.
    const kpN = kp * this.#filterN;
    this.#filterPole = kpN > 0 && kd > 0 ? kd / (kd + dtS * kpN) : 0;
    if (ki > 0) {
      // Ti·Td = (kp/ki)(kd/kp) = kd/ki; Ti = kp/ki. A pure-I controller (kp = 0) gets Tt = 0 → factor 1.
      const ttS = this.#trackingTimeS ?? (kd > 0 ? Math.sqrt(kd / ki) : kp / ki);
      // dt/Tt above 1 would overcorrect in one sample (the discrete tracking loop would oscillate).
      this.#trackingFactor = ttS > 0 ? Math.min(1, dtS / ttS) : 1;
    } else {
      this.#trackingFactor = 0;
    }
  }

  /** Keeps the stored output contribution (integral plus PonM term) within the output limits (#4). */
  #limitIntegral(): void {
    if (this.#antiWindup === 'none') return;
    const sum = this.#iTerm + this.#pmTerm;
    if (sum > this.#outMax) this.#iTerm = this.#outMax - this.#pmTerm;
    else if (sum < this.#outMin) this.#iTerm = this.#outMin - this.#pmTerm;
  }

  #clamp(value: number): number {
    return Math.min(this.#outMax, Math.max(this.#outMin, value));
  }
}

function requireFinite(value: number, name: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number, got ${value}`);
  }
}

function checkTunings(tunings: PidTunings): PidTunings {
  for (const key of ['kp', 'ki', 'kd'] as const) {
    const v = tunings[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new TypeError(`tunings.${key} must be a finite number >= 0, got ${v}`);
    }
  }
  return { kp: tunings.kp, ki: tunings.ki, kd: tunings.kd };
}

function checkSampleMs(sampleMs: number): number {
  if (typeof sampleMs !== 'number' || !Number.isFinite(sampleMs) || !(sampleMs > 0)) {
    throw new TypeError(`sampleMs must be a finite number > 0, got ${sampleMs}`);
  }
  return sampleMs;
}

function checkLimits(outMin: number, outMax: number): void {
  requireFinite(outMin, 'outMin');
  requireFinite(outMax, 'outMax');
  if (!(outMin < outMax)) throw new TypeError(`outMin must be < outMax, got ${outMin} >= ${outMax}`);
}

function checkDirection(direction: PidDirection): 1 | -1 {
  if (direction === 'direct') return 1;
  if (direction === 'reverse') return -1;
  throw new TypeError(`direction must be 'direct' or 'reverse', got ${String(direction)}`);
}
