import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeProportioner, type TimeProportionerOptions } from '../../../agent/control/time-proportioning.js';

const TICK_MS = 100;
const WINDOW_MS = 10_000;
const START_MS = 5_000; // an arbitrary monotonic origin

/** Drives the proportioner tick by tick; `duty` may depend on the time since START_MS. */
function drive(
  tp: TimeProportioner,
  durationMs: number,
  duty: number | ((tMs: number) => number),
): boolean[] {
  const states: boolean[] = [];
  for (let t = 0; t < durationMs; t += TICK_MS) {
    states.push(tp.update(typeof duty === 'number' ? duty : duty(t), START_MS + t));
  }
  return states;
}

/** On-time of each full window, in ms (each tick's state holds until the next tick). */
function onTimePerWindow(states: readonly boolean[]): number[] {
  const perWindow = WINDOW_MS / TICK_MS;
  const result: number[] = [];
  for (let i = 0; i + perWindow <= states.length; i += perWindow) {
    result.push(states.slice(i, i + perWindow).filter(Boolean).length * TICK_MS);
  }
  return result;
}

/** Lengths of the on and off runs, in ms, excluding the first and last run (cut by the recording). */
function runs(states: readonly boolean[]): { on: number[]; off: number[] } {
  const on: number[] = [];
  const off: number[] = [];
  let start = 0;
  for (let i = 1; i <= states.length; i++) {
    if (i === states.length || states[i] !== states[i - 1]) {
      if (start > 0 && i < states.length) (states[start] ? on : off).push((i - start) * TICK_MS);
      start = i;
    }
  }
  return { on, off };
}

const proportioner = (options: Partial<TimeProportionerOptions> = {}) =>
  new TimeProportioner({ windowMs: WINDOW_MS, ...options });

describe('TimeProportioner', () => {
  it.each([0, 0.01, 0.25, 0.37, 0.5, 0.99, 1])('is on for duty·window in every window (duty %s)', (duty) => {
    const perWindow = onTimePerWindow(drive(proportioner(), 5 * WINDOW_MS, duty));
    expect(perWindow).toEqual(Array(5).fill(duty * WINDOW_MS));
  });

  it('puts the on-time at the start of each window', () => {
    const states = drive(proportioner(), 2 * WINDOW_MS, 0.3);
    const window = states.slice(0, WINDOW_MS / TICK_MS);
    expect(window.indexOf(false)).toBe(30);
    expect(window.slice(30).some(Boolean)).toBe(false);
    expect(states[WINDOW_MS / TICK_MS]).toBe(true);
  });

  it('accepts a duty in percent with dutyFullScale 100, and clamps out-of-range duties', () => {
    expect(onTimePerWindow(drive(proportioner({ dutyFullScale: 100 }), WINDOW_MS, 42))).toEqual([4200]);
    expect(onTimePerWindow(drive(proportioner(), WINDOW_MS, 1.5))).toEqual([WINDOW_MS]);
    expect(onTimePerWindow(drive(proportioner(), WINDOW_MS, -0.2))).toEqual([0]);
  });

  it('applies a lower duty mid-window to the remainder without double-counting the on-time delivered', () => {
    // 0.5 until 2 s, then 0.3: the pulse ends when 3 s in total have been delivered.
    const states = drive(proportioner(), WINDOW_MS, (t) => (t < 2_000 ? 0.5 : 0.3));
    expect(onTimePerWindow(states)).toEqual([3_000]);
    expect(states.indexOf(false)).toBe(30);
  });

  it('ends the pulse at once when the duty drops below what was already delivered', () => {
    const states = drive(proportioner(), WINDOW_MS, (t) => (t < 3_000 ? 0.5 : 0.2));
    expect(onTimePerWindow(states)).toEqual([3_000]);
  });

  it('adds only the shortfall when the duty rises after the pulse has ended', () => {
    // 0.5 → pulse 0–5 s; at 7 s the duty becomes 0.8: 3 s more, 7–10 s. Total 8 s, not 5 + 8.
    const states = drive(proportioner(), WINDOW_MS, (t) => (t < 7_000 ? 0.5 : 0.8));
    expect(onTimePerWindow(states)).toEqual([8_000]);
    expect(states.slice(50, 70).some(Boolean)).toBe(false);
    expect(states.slice(70).every(Boolean)).toBe(true);
  });

  it('skips a planned pulse shorter than minOnMs (the relay stays off)', () => {
    const tp = proportioner({ minOnMs: 1_000 });
    expect(drive(tp, 3 * WINDOW_MS, 0.05).some(Boolean)).toBe(false);
    expect(onTimePerWindow(drive(proportioner({ minOnMs: 1_000 }), 3 * WINDOW_MS, 0.1))).toEqual([
      1000, 1000, 1000,
    ]);
  });

  it('skips a planned gap shorter than minOffMs (the relay stays on)', () => {
    expect(drive(proportioner({ minOffMs: 1_000 }), 3 * WINDOW_MS, 0.95).every(Boolean)).toBe(true);
    expect(onTimePerWindow(drive(proportioner({ minOffMs: 1_000 }), 3 * WINDOW_MS, 0.9))).toEqual([
      9000, 9000, 9000,
    ]);
  });

  it('extends a pulse already started to minOnMs when the duty drops to zero', () => {
    const states = drive(proportioner({ minOnMs: 1_000 }), WINDOW_MS, (t) => (t < 300 ? 0.5 : 0));
    expect(onTimePerWindow(states)).toEqual([1_000]);
  });

  it('extends a gap already started to minOffMs before a duty rise can switch the relay back on', () => {
    // Pulse 0–3 s; at 3.5 s the duty goes to 1: off until 4 s (minOff), then on to the window end.
    const states = drive(proportioner({ minOffMs: 1_000 }), WINDOW_MS, (t) => (t < 3_500 ? 0.3 : 1));
    expect(states.slice(30, 40).some(Boolean)).toBe(false);
    expect(states.slice(40).every(Boolean)).toBe(true);
  });

  it('keeps its window grid after a stalled caller and reports the window state', () => {
    const tp = proportioner();
    tp.update(0.5, START_MS);
    expect(tp.windowStartMs).toBe(START_MS);
    tp.update(0.5, START_MS + 3.5 * WINDOW_MS); // skipped three windows while on
    expect(tp.windowStartMs).toBe(START_MS + 3 * WINDOW_MS);
    expect(tp.onTimeInWindowMs).toBe(0.5 * WINDOW_MS);
    expect(tp.isOn).toBe(false);
  });

  it('rejects misuse with a TypeError naming the parameter', () => {
    expect(() => new TimeProportioner({ windowMs: 0 })).toThrow(/windowMs/);
    expect(() => new TimeProportioner({ windowMs: 1000, minOnMs: -1 })).toThrow(/minOnMs/);
    expect(() => new TimeProportioner({ windowMs: 1000, minOffMs: Number.NaN })).toThrow(/minOffMs/);
    expect(() => new TimeProportioner({ windowMs: 1000, minOnMs: 600, minOffMs: 600 })).toThrow(/minOnMs/);
    expect(() => new TimeProportioner({ windowMs: 1000, dutyFullScale: 0 })).toThrow(/dutyFullScale/);
    const tp = proportioner();
    expect(() => tp.update(Number.NaN, 0)).toThrow(/duty/);
    tp.update(0.5, 1000);
    expect(() => tp.update(0.5, 999)).toThrow(/nowMonoMs/);
    expect(() => tp.update(0.5, 999)).toThrow(TypeError);
  });

  it('never makes an on or off period shorter than minOnMs / minOffMs, whatever the duty does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }).map((n) => n * TICK_MS),
        fc.integer({ min: 0, max: 30 }).map((n) => n * TICK_MS),
        fc.array(fc.double({ min: -0.2, max: 1.2, noNaN: true }), { minLength: 1, maxLength: 400 }),
        (minOnMs, minOffMs, duties) => {
          const tp = proportioner({ minOnMs, minOffMs });
          const states = duties.map((d, i) => tp.update(d, START_MS + i * TICK_MS));
          const { on, off } = runs(states);
          return on.every((ms) => ms >= minOnMs) && off.every((ms) => ms >= minOffMs);
        },
      ),
      { numRuns: 500 },
    );
  });
});
