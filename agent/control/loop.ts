/**
 * One PID loop bound to points: reads its input, computes on a fixed sample period, and drives its
 * output point — a number, or a relay through time proportioning. It owns what makes a loop safe to
 * leave alone: an input that goes stale or faults puts the output in its safe state and raises an
 * alarm, and the loop resumes bumplessly when the input is good again; an interlock forcing the output
 * is followed (the PID tracks the forced value) so its release causes no bump; gain scheduling and
 * relay autotune switch tunings bumplessly, and an aborted autotune restores the gains and mode.
 *
 * Points it publishes: `loop.<name>.setpoint` (writable: rules and commands change the setpoint
 * through it), `loop.<name>.output` (the controller output), `loop.<name>.mode` and
 * `loop.<name>.state` (`auto`, `manual`, `safe`, `interlocked`, `autotune`).
 *
 * The relay autotune's own logic is loop-autotune.ts, and a `worker: true` loop reaches its worker
 * thread only through loop-worker-sync.ts; this class keeps the PID, the state and the points.
 */

import type { Clock } from '../core/clock.js';
import { errorMessage, isAgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PointTable, PointValue } from '../core/points.js';
import type { TuningRule } from './autotune.js';
import { type AutotuneOutcome, type FinishedAutotune, LoopAutotune } from './loop-autotune.js';
import type { LoopConfig } from './loop-schema.js';
import { LoopWorkerSync } from './loop-worker-sync.js';
import { Pid } from './pid.js';
import { GainSchedule } from './schedule.js';
import type { Task } from './scheduler.js';
import { TimeProportioner } from './time-proportioning.js';
import type { AlarmSink, LoopControl, LoopMode, PidTunings } from './types.js';

export type { AutotuneOutcome } from './loop-autotune.js';

export type LoopState = 'auto' | 'manual' | 'safe' | 'interlocked' | 'autotune';

export interface LoopStatus {
  readonly name: string;
  readonly state: LoopState;
  readonly mode: LoopMode;
  readonly input: number | undefined;
  readonly setpoint: number;
  readonly output: number;
  readonly tunings: PidTunings;
  readonly region: string | undefined;
  readonly autotune: { readonly running: boolean; readonly last: AutotuneOutcome | undefined };
}

export interface ControlLoopDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly points: PointTable;
  readonly alarms: AlarmSink;
  /**
   * The directory of the agent's built code (dist/agent/), where a `worker: true` loop finds the
   * worker thread's modules (`control/worker-ticker-main.js`, `control/worker-pid-task.js`); the
   * composition root resolves it. Only worker loops need it: one without it is a TypeError.
   */
  readonly codeDir?: URL | undefined;
}

export class ControlLoop implements LoopControl {
  readonly name: string;
  readonly #deps: ControlLoopDeps;
  readonly #config: LoopConfig;
  readonly #pid: Pid;
  readonly #schedule: GainSchedule | undefined;
  readonly #proportioner: TimeProportioner | undefined;
  readonly #source: string;
  readonly #p: { setpoint: string; output: string; mode: string; state: string };
  #setpoint: number;
  #state: LoopState;
  #lastInput: number | undefined;
  /** The controller output being applied (PID, autotune relay, tracked force or safe value). */
  #currentOutput = 0;
  #region: string | undefined;
  readonly #autotune: LoopAutotune;
  #unsubscribe: (() => void) | undefined;
  /** With `worker: true`, the PID runs in a worker thread, reached through its shared slots. */
  readonly #worker: LoopWorkerSync | undefined;
  /** Whether the input is not good (from the first bad sample to the next good one). */
  #inputLost = false;
  /** Whether the input alarm is raised (not during the start-up grace). */
  #alarmed = false;
  readonly #createdMs: number;
  readonly #graceMs: number;

  constructor(deps: ControlLoopDeps, config: LoopConfig) {
    this.#deps = deps;
    this.#config = config;
    this.name = config.name;
    this.#source = `loop:${config.name}`;
    const base = `loop.${config.name}`;
    this.#p = {
      setpoint: `${base}.setpoint`,
      output: `${base}.output`,
      mode: `${base}.mode`,
      state: `${base}.state`,
    };
    this.#setpoint = config.setpoint;
    const { min, max } = config.outputLimits;
    this.#pid = new Pid({
      tunings: config.tunings,
      sampleMs: config.periodMs,
      outMin: min,
      outMax: max,
      direction: config.direction,
      pOn: config.pOn,
      antiWindup: config.antiWindup,
      derivativeFilterN: config.derivativeFilterN,
      mode: config.mode,
      initialOutput:
        config.mode === 'manual' ? (config.manualOutput ?? config.safeOutput) : config.safeOutput,
    });
    this.#currentOutput = this.#pid.output;
    this.#createdMs = deps.clock.monotonicMs();
    this.#graceMs = config.startupGraceMs;
    this.#state = config.mode;
    const schedule = config.schedule;
    this.#schedule = schedule
      ? new GainSchedule({
          hysteresis: schedule.hysteresis,
          regions: schedule.regions.map((r) => ({ ...r, tunings: r.tunings ?? config.tunings })),
        })
      : undefined;
    if (config.worker) {
      this.#worker = new LoopWorkerSync(config, deps.codeDir, {
        setpoint: this.#setpoint,
        output: this.#pid.output,
      });
      this.#worker.sync(this.#pid);
    }
    this.#autotune = new LoopAutotune({
      log: deps.log,
      alarms: deps.alarms,
      name: config.name,
      source: this.#source,
      config,
    });
    const tp = config.timeProportioning;
    this.#proportioner = tp
      ? new TimeProportioner({ windowMs: tp.windowMs, minOnMs: tp.minOnMs, minOffMs: tp.minOffMs })
      : undefined;
  }

  /** Declares the loop's own points; the input and output belong to devices. */
  declarePoints(): void {
    const { points } = this.#deps;
    const unit = points.get(this.#config.input)?.unit;
    points.declare({ name: this.#p.setpoint, unit, writable: true, limits: this.#config.setpointLimits });
    points.declare({ name: this.#p.output });
    points.declare({ name: this.#p.mode });
    points.declare({ name: this.#p.state });
    points.update(this.#p.setpoint, this.#setpoint, this.#source);
    points.update(this.#p.output, this.#pid.output, this.#source);
    points.update(this.#p.mode, this.#pid.mode, this.#source);
    points.update(this.#p.state, this.#state, this.#source);
    this.#unsubscribe = points.onWrite(this.#p.setpoint, async (value) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new TypeError(`setpoint of loop ${this.name} must be a finite number, got ${String(value)}`);
      }
      this.#setpoint = value;
      this.#worker?.setSetpoint(value);
    });
  }

  /** Starts the worker thread of a `worker: true` loop (nothing to do otherwise). */
  async start(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    // Every new measurement goes straight to the worker, which samples it on exact deadlines.
    const off = this.#deps.points.subscribe(this.#config.input, (p) => {
      if (p.quality === 'good' && typeof p.value === 'number') worker.feedInput(p.value);
    });
    const previous = this.#unsubscribe;
    this.#unsubscribe = () => {
      off();
      previous?.();
    };
    await worker.start();
  }

  /** The scheduler tasks: the PID sample, and the relay's time-proportioning tick if any. */
  tasks(): Task[] {
    const tasks: Task[] = [
      { name: `loop.${this.name}`, periodMs: this.#config.periodMs, run: () => this.#sample() },
    ];
    if (this.#proportioner && this.#config.timeProportioning) {
      tasks.push({
        name: `loop.${this.name}.relay`,
        periodMs: this.#config.timeProportioning.tickMs,
        run: () => this.#driveRelay(),
      });
    }
    return tasks;
  }

  status(): LoopStatus {
    return {
      name: this.name,
      state: this.#state,
      mode: this.#pid.mode,
      input: this.#lastInput,
      setpoint: this.#setpoint,
      // A worker loop's PID runs in the worker: its output is in the shared slots.
      output: this.#worker ? (this.#worker.output ?? this.#pid.output) : this.#pid.output,
      tunings: this.#pid.tunings,
      region: this.#region,
      autotune: { running: this.#autotune.running, last: this.#autotune.last },
    };
  }

  setMode(mode: LoopMode, source: string, manualOutput?: number): void {
    this.#cancelAutotune('mode changed');
    if (mode === 'manual') {
      // Without an output, manual holds the current one: in worker mode that is the worker's.
      const output = manualOutput ?? this.#worker?.output;
      this.#pid.setMode('manual', output === undefined ? {} : { output });
      this.#deps.points.update(this.#p.output, this.#pid.output, this.#source);
      // The technician's output applies now, not at the next sample (which may be minutes away).
      if (!this.#inputLost) {
        this.#currentOutput = this.#pid.output;
        void (this.#proportioner ? this.#driveRelay() : this.#writeOutput(this.#currentOutput, false));
      }
    } else {
      this.#pid.setMode('auto', this.#lastInput === undefined ? {} : { input: this.#lastInput });
    }
    this.#worker?.sync(this.#pid);
    this.#deps.log.info({ loop: this.name, mode, manualOutput, source }, 'loop mode changed');
    this.#publishMode();
  }

  setSetpoint(value: number, source: string): void {
    void this.#deps.points.write(this.#p.setpoint, value, source).catch((error: unknown) => {
      this.#deps.log.warn({ loop: this.name, err: errorMessage(error) }, 'setpoint refused');
    });
  }

  setTunings(tunings: PidTunings, source: string): void {
    this.#pid.setTunings(tunings);
    if (this.#schedule && this.#region) this.#schedule.setRegionTunings(this.#region, tunings);
    this.#worker?.sync(this.#pid);
    this.#deps.log.info({ loop: this.name, tunings, region: this.#region, source }, 'loop retuned');
  }

  /**
   * Starts a relay autotune around the current setpoint. The relay swings `amplitude` around the
   * current output (less if the output limits leave less room); on success the tunings by `rule`
   * replace the current ones (the current gain schedule region's, if any) and the previous mode
   * resumes; on abort nothing is changed. Refused while the input is lost or an interlock holds the
   * output; cancelled by a mode change, a lost input or an interlock.
   */
  startAutotune(source: string, rule?: TuningRule): void {
    if (this.#autotune.running) throw new TypeError(`loop ${this.name} is already autotuning`);
    if (this.#worker)
      throw new TypeError(`loop ${this.name} runs in a worker thread; autotune it with worker: false`);
    if (this.#inputLost) throw new TypeError(`loop ${this.name} has no good input; autotune refused`);
    if (this.#state === 'interlocked') {
      throw new TypeError(`loop ${this.name}: an interlock holds the output; autotune refused`);
    }
    this.#autotune.start({
      setpoint: this.#setpoint,
      bias: this.#pid.output,
      region: this.#region,
      rule,
      source,
    });
    this.#setState('autotune');
  }

  cancelAutotune(source: string): boolean {
    return this.#cancelAutotune(`cancelled by ${source}`);
  }

  /** Puts the output in its safe state (agent stopping). */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#autotune.abandon();
    await this.#worker?.stop();
    await this.#writeOutput(this.#config.safeOutput, true);
  }

  async #sample(): Promise<void> {
    const snapshot = this.#deps.points.get(this.#config.input);
    const input =
      snapshot?.quality === 'good' && typeof snapshot.value === 'number' ? snapshot.value : undefined;
    if (input === undefined) {
      await this.#enterSafe(snapshot?.quality ?? 'unknown');
      return;
    }
    if (this.#inputLost) this.#leaveSafe(input);
    this.#lastInput = input;
    // An interlock holding the output is followed on every sample, not only when a write collides
    // with it: otherwise the PID integrates between collisions and the release is a bump.
    const held = this.#deps.points.get(this.#config.output);
    if (held?.forcedBy !== undefined) {
      this.#followForce(held.value);
      this.#deps.points.update(this.#p.output, this.#currentOutput, this.#source);
      return;
    }
    if (this.#state === 'interlocked') this.#interlockReleased();

    let output: number;
    if (this.#worker) {
      output = this.#worker.sample(input) ?? this.#config.safeOutput;
    } else if (this.#autotune.running) {
      const step = this.#autotune.step(input, this.#deps.clock.monotonicMs());
      if ('output' in step) output = step.output;
      else {
        this.#finishAutotune(step, input);
        output = this.#pid.output;
      }
    } else {
      this.#applySchedule(input);
      output = this.#pid.mode === 'auto' ? this.#pid.compute(input, this.#setpoint) : this.#pid.output;
    }
    this.#deps.points.update(this.#p.output, output, this.#source);
    if (!this.#proportioner) await this.#writeOutput(output, false);
    this.#currentOutput = output;
  }

  async #driveRelay(): Promise<void> {
    const proportioner = this.#proportioner;
    if (!proportioner || this.#inputLost) return;
    const { min, max } = this.#config.outputLimits;
    const duty = (this.#currentOutput - min) / (max - min);
    const on = proportioner.update(Math.min(1, Math.max(0, duty)), this.#deps.clock.monotonicMs());
    await this.#writePoint(on);
  }

  /** Writes the output point (a number, or on/off for a relay) if it differs from what it holds. */
  async #writeOutput(output: number, force: boolean): Promise<void> {
    if (this.#proportioner) {
      const { min, max } = this.#config.outputLimits;
      await this.#writePoint(output > min + (max - min) / 2, force);
    } else {
      await this.#writePoint(output, force);
    }
  }

  async #writePoint(value: PointValue, always = false): Promise<void> {
    const { points } = this.#deps;
    const current = points.get(this.#config.output);
    if (!always && current?.value === value && current.quality === 'good') {
      if (this.#state === 'interlocked' && !current.forcedBy) this.#interlockReleased();
      return;
    }
    try {
      await points.write(this.#config.output, value, this.#source);
      if (this.#state === 'interlocked') this.#interlockReleased();
    } catch (error) {
      if (isAgentError(error) && error.code === 'EFORCED') {
        this.#followForce(current?.value);
        return;
      }
      this.#deps.log.debug({ loop: this.name, err: errorMessage(error) }, 'output write failed');
    }
  }

  /**
   * An interlock holds the output: the PID tracks it so that the release causes no bump. A running
   * autotune is cancelled (its relay no longer reaches the plant).
   */
  #followForce(forced: PointValue | undefined): void {
    const { min, max } = this.#config.outputLimits;
    const value =
      typeof forced === 'boolean' ? (forced ? max : min) : typeof forced === 'number' ? forced : min;
    this.#cancelAutotune('output held by an interlock');
    if (this.#lastInput !== undefined) this.#pid.track(value, this.#lastInput);
    this.#currentOutput = value;
    // The worker holds while the input is "not good" and resumes from the output slot afterwards.
    this.#worker?.hold(value);
    if (this.#state !== 'interlocked') {
      this.#deps.log.warn({ loop: this.name, output: this.#config.output }, 'output held by an interlock');
      this.#setState('interlocked');
    }
  }

  #interlockReleased(): void {
    this.#deps.log.info({ loop: this.name }, 'interlock released; loop resumes');
    this.#setState(this.#restingState());
  }

  /** The state when no interlock holds the output. */
  #restingState(): LoopState {
    if (this.#inputLost) return 'safe';
    if (this.#autotune.running) return 'autotune';
    return this.#pid.mode;
  }

  async #enterSafe(quality: string): Promise<void> {
    // At start-up the input has simply not been read yet: hold the safe output without an alarm for
    // a grace period, unless the input was already good once.
    const starting =
      this.#lastInput === undefined && this.#deps.clock.monotonicMs() - this.#createdMs < this.#graceMs;
    // The loss is tracked apart from the state: an interlock may hold the output meanwhile (state
    // `interlocked`), and the alarm must still clear when the input is good again.
    if (!this.#inputLost) {
      this.#inputLost = true;
      this.#cancelAutotune('input lost');
      if (this.#state !== 'interlocked' && this.#state !== 'safe') this.#setState('safe');
    }
    if (!starting && !this.#alarmed) {
      this.#deps.log.warn(
        { loop: this.name, input: this.#config.input, quality },
        'loop input not good: output safe',
      );
      this.#deps.alarms.raise({
        id: `loop.${this.name}.input`,
        severity: 'major',
        message: `loop ${this.name}: input ${this.#config.input} is ${quality}; output held at its safe value`,
        source: this.#source,
      });
      this.#alarmed = true;
    }
    this.#currentOutput = this.#config.safeOutput;
    this.#worker?.hold(this.#config.safeOutput);
    this.#deps.points.update(this.#p.output, this.#config.safeOutput, this.#source);
    await this.#writeOutput(this.#config.safeOutput, false);
  }

  #leaveSafe(input: number): void {
    // Resume from the safe output with the integral re-initialised: no bump, no stale integral.
    this.#pid.track(this.#config.safeOutput, input);
    if (this.#alarmed) {
      this.#deps.alarms.clear(`loop.${this.name}.input`, this.#source);
      this.#deps.log.info({ loop: this.name }, 'loop input good again: resuming');
    }
    this.#alarmed = false;
    this.#inputLost = false;
    if (this.#state !== 'interlocked') this.#setState(this.#restingState());
  }

  #applySchedule(input: number): void {
    const schedule = this.#schedule;
    if (!schedule) return;
    const by = this.#config.schedule?.by;
    const value =
      by === 'setpoint'
        ? this.#setpoint
        : by === this.#config.input
          ? input
          : this.#deps.points.goodValue(by ?? '');
    if (typeof value !== 'number') return;
    const selection = schedule.select(value);
    if (selection.changed || this.#region === undefined) {
      this.#pid.setTunings(selection.tunings);
      if (this.#region !== undefined) {
        this.#deps.log.info(
          { loop: this.name, region: selection.region, tunings: selection.tunings },
          'gain region changed',
        );
      }
      this.#region = selection.region;
    }
  }

  /** Applies a finished autotune's tunings (if it succeeded) and resumes the previous mode. */
  #finishAutotune(finished: FinishedAutotune, input: number): void {
    this.#pid.track(this.#currentOutput, input);
    const { outcome, region } = finished;
    if (outcome.ok) {
      this.#pid.setTunings(outcome.tunings);
      if (this.#schedule && region) this.#schedule.setRegionTunings(region, outcome.tunings);
    }
    this.#autotune.report(outcome);
    // The PID never left its mode (a mode change cancels the autotune): `track` above resumed auto
    // from the relay's last output; manual keeps the operator's output.
    this.#setState(this.#restingState());
  }

  #cancelAutotune(reason: string): boolean {
    if (!this.#autotune.cancel(reason)) return false;
    if (this.#lastInput !== undefined) this.#pid.track(this.#currentOutput, this.#lastInput);
    if (this.#state !== 'interlocked') this.#setState(this.#restingState());
    return true;
  }

  #publishMode(): void {
    this.#deps.points.update(this.#p.mode, this.#pid.mode, this.#source);
    if (this.#state === 'auto' || this.#state === 'manual') this.#setState(this.#pid.mode);
  }

  #setState(state: LoopState): void {
    this.#state = state;
    this.#deps.points.update(this.#p.state, state, this.#source);
    this.#deps.points.update(this.#p.mode, this.#pid.mode, this.#source);
  }
}
