/**
 * A PID computed in a worker thread (`WorkerTicker`): the main thread publishes the measurement and
 * the setpoint into shared memory as they change and reads the output back; the worker samples them
 * on exact deadlines, so the controller's dt is the real one even when the main thread is busy.
 * Tunings, mode and manual output changes are passed through the same memory, with a version
 * counter so the worker applies each change once (bumplessly, as `Pid` does).
 */
import { Pid } from './pid.js';
import type { PidTunings } from './types.js';
import type { CreateTick } from './worker-task.js';

/** Float64 slots of the shared block. */
export const PID_SLOTS = {
  input: 0,
  setpoint: 1,
  output: 2,
  /** 1 when `input` is a good measurement; 0 holds the output (the main thread applies the safe state). */
  inputGood: 3,
  /** 0 auto, 1 manual. */
  mode: 4,
  manualOutput: 5,
  kp: 6,
  ki: 7,
  kd: 8,
  /** Bumped by the main thread after it changes mode, manual output or tunings. */
  version: 9,
  ticks: 10,
} as const;

export const PID_SHARED_BYTES = 8 * 16;

export interface WorkerPidOptions {
  readonly sampleMs: number;
  readonly tunings: PidTunings;
  readonly outMin: number;
  readonly outMax: number;
  readonly direction?: 'direct' | 'reverse';
  readonly pOn?: 'error' | 'measurement';
  readonly derivativeFilterN?: number;
  readonly initialOutput?: number;
}

export const createTick: CreateTick = (shared, options) => {
  const o = options as WorkerPidOptions;
  const slots = new Float64Array(shared);
  const pid = new Pid({
    tunings: o.tunings,
    sampleMs: o.sampleMs,
    outMin: o.outMin,
    outMax: o.outMax,
    direction: o.direction,
    pOn: o.pOn,
    derivativeFilterN: o.derivativeFilterN,
    initialOutput: o.initialOutput,
  });
  let seenVersion = -1; // apply the mode and tunings the main thread set before the worker started
  let wasGood = true;
  return () => {
    const version = slots[PID_SLOTS.version] ?? 0;
    const input = slots[PID_SLOTS.input] ?? 0;
    if (version !== seenVersion) {
      seenVersion = version;
      pid.setTunings({
        kp: slots[PID_SLOTS.kp] ?? 0,
        ki: slots[PID_SLOTS.ki] ?? 0,
        kd: slots[PID_SLOTS.kd] ?? 0,
      });
      if (slots[PID_SLOTS.mode] === 1) pid.setMode('manual', { output: slots[PID_SLOTS.manualOutput] ?? 0 });
      else pid.setMode('auto', { input });
    }
    if (slots[PID_SLOTS.inputGood] !== 1) {
      wasGood = false;
      return;
    }
    if (!wasGood) {
      pid.track(slots[PID_SLOTS.output] ?? 0, input); // resume from whatever the main thread applied
      wasGood = true;
    }
    slots[PID_SLOTS.output] =
      pid.mode === 'auto' ? pid.compute(input, slots[PID_SLOTS.setpoint] ?? 0) : pid.output;
    slots[PID_SLOTS.ticks] = (slots[PID_SLOTS.ticks] ?? 0) + 1;
  };
};
