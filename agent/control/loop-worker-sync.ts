/**
 * The main-thread side of a `worker: true` loop: the worker thread (`WorkerTicker` running
 * worker-pid-task.ts) computes the PID on exact deadlines, and this class is the only code that
 * touches the shared slots. It publishes the input and setpoint as they change, passes mode, manual
 * output and tunings with a bumped version so the worker applies each change once, holds the worker
 * (input "not good" plus the output to resume from) when the loop goes safe or is interlocked, and
 * reads the worker's output back.
 */
import type { LoopConfig } from './loop-schema.js';
import type { Pid } from './pid.js';
import { PID_SHARED_BYTES, PID_SLOTS, type WorkerPidOptions } from './worker-pid-task.js';
import { WorkerTicker } from './worker-ticker.js';

export class LoopWorkerSync {
  readonly #ticker: WorkerTicker;
  readonly #slots: Float64Array;

  /**
   * `codeDir` is the directory of the built agent (dist/agent/) holding the worker's modules; the
   * thread starts with `start`, not here.
   */
  constructor(
    config: LoopConfig,
    codeDir: URL | undefined,
    initial: { readonly setpoint: number; readonly output: number },
  ) {
    if (!codeDir) throw new TypeError(`deps.codeDir is required by loop ${config.name} (worker: true)`);
    const { min, max } = config.outputLimits;
    const options: WorkerPidOptions = {
      sampleMs: config.periodMs,
      tunings: config.tunings,
      outMin: min,
      outMax: max,
      direction: config.direction,
      pOn: config.pOn,
      derivativeFilterN: config.derivativeFilterN,
      initialOutput: initial.output,
    };
    this.#ticker = new WorkerTicker({
      periodMs: config.periodMs,
      workerEntry: new URL('control/worker-ticker-main.js', codeDir),
      taskModule: new URL('control/worker-pid-task.js', codeDir),
      taskOptions: options,
      sharedBytes: PID_SHARED_BYTES,
    });
    this.#slots = new Float64Array(this.#ticker.shared);
    this.#slots[PID_SLOTS.setpoint] = initial.setpoint;
    this.#slots[PID_SLOTS.output] = initial.output;
  }

  /** The worker's latest output. */
  get output(): number | undefined {
    return this.#slots[PID_SLOTS.output];
  }

  start(): Promise<void> {
    return this.#ticker.start();
  }

  stop(): Promise<void> {
    return this.#ticker.stop();
  }

  setSetpoint(value: number): void {
    this.#slots[PID_SLOTS.setpoint] = value;
  }

  /** A new good measurement, between samples. */
  feedInput(value: number): void {
    this.#slots[PID_SLOTS.input] = value;
  }

  /** The loop's sample: the input is good; returns the worker's output. */
  sample(input: number): number | undefined {
    this.#slots[PID_SLOTS.input] = input;
    this.#slots[PID_SLOTS.inputGood] = 1;
    return this.#slots[PID_SLOTS.output];
  }

  /** The worker holds while the input is "not good" and resumes from `output` afterwards. */
  hold(output: number): void {
    this.#slots[PID_SLOTS.inputGood] = 0;
    this.#slots[PID_SLOTS.output] = output;
  }

  /** Passes mode, manual output and tunings to the worker; the version tells it something changed. */
  sync(pid: Pick<Pid, 'mode' | 'output' | 'tunings'>): void {
    const slots = this.#slots;
    const t = pid.tunings;
    slots[PID_SLOTS.mode] = pid.mode === 'manual' ? 1 : 0;
    slots[PID_SLOTS.manualOutput] = pid.output;
    slots[PID_SLOTS.kp] = t.kp;
    slots[PID_SLOTS.ki] = t.ki;
    slots[PID_SLOTS.kd] = t.kd;
    slots[PID_SLOTS.version] = (slots[PID_SLOTS.version] ?? 0) + 1;
  }
}
