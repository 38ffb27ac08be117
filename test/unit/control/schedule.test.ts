import { describe, expect, it } from 'vitest';
import { Pid } from '../../../agent/control/pid.js';
import { GainSchedule, type GainScheduleOptions } from '../../../agent/control/schedule.js';
import type { PidTunings } from '../../../agent/control/types.js';
import { DEFAULT_THERMAL_PLANT, ThermalPlant } from '../../../agent/hal/sim/thermal-plant.js';

const COLD: PidTunings = { kp: 0.1, ki: 0.001, kd: 0.5 };
const WARM: PidTunings = { kp: 0.2, ki: 0.002, kd: 1 };
const HOT: PidTunings = { kp: 0.3, ki: 0.003, kd: 1.5 };

/** cold below 40, warm in [40, 80), hot from 80 up; 2 units of hysteresis. */
const threeRegions = (): GainSchedule =>
  new GainSchedule({
    regions: [
      { name: 'cold', to: 40, tunings: COLD },
      { name: 'warm', from: 40, to: 80, tunings: WARM },
      { name: 'hot', from: 80, tunings: HOT },
    ],
    hysteresis: 2,
  });

describe('GainSchedule', () => {
  it('selects regions by value with hysteresis at the boundaries', () => {
    const s = threeRegions();
    // [value, expected region, changed]: a walk up and down across both boundaries.
    const walk: [number, string, boolean][] = [
      [20, 'cold', true], // first selection always reports a change
      [39.9, 'cold', false],
      [40, 'cold', false], // on the boundary: stays (within to + hysteresis)
      [41.9, 'cold', false],
      [42, 'warm', true], // past 40 + 2
      [39, 'warm', false], // back below the boundary but within from − hysteresis
      [38.01, 'warm', false],
      [37.99, 'cold', true],
      [41, 'cold', false],
      [60, 'warm', true],
      [81.5, 'warm', false],
      [82, 'hot', true],
      [78.5, 'hot', false],
      [77.9, 'warm', true],
      [200, 'hot', true], // jumps straight to the region the value is in
      [-50, 'cold', true],
    ];
    for (const [value, region, changed] of walk) {
      expect({ value, ...s.select(value) }).toMatchObject({ value, region, changed });
    }
  });

  it('chooses by plain boundaries on the first call, the lower bound inclusive', () => {
    expect(threeRegions().select(40).region).toBe('warm');
    expect(threeRegions().select(39.999).region).toBe('cold');
    expect(threeRegions().select(80).region).toBe('hot');
  });

  it('does not chatter when the value dithers on a boundary', () => {
    const s = threeRegions();
    s.select(39);
    let changes = 0;
    for (let i = 0; i < 1000; i++) if (s.select(40 + Math.sin(i) * 1.5).changed) changes++;
    expect(changes).toBe(0);
    expect(s.current).toBe('cold');
  });

  it('returns tunings stored by setRegionTunings (an autotune result) from then on', () => {
    const s = threeRegions();
    expect(s.select(60).tunings).toEqual(WARM);
    const tuned = { kp: 0.25, ki: 0.0025, kd: 1.2 };
    s.setRegionTunings('warm', tuned);
    expect(s.select(61)).toEqual({ region: 'warm', tunings: tuned, changed: false });
    expect(s.tuningsOf('warm')).toEqual(tuned);
    expect(s.tuningsOf('nowhere')).toBeUndefined();
  });

  it('rejects misuse with a TypeError naming the parameter', () => {
    const t = WARM;
    const cases: [GainScheduleOptions, RegExp][] = [
      [{ regions: [], hysteresis: 1 }, /regions/],
      [{ regions: [{ name: 'a', tunings: t }], hysteresis: -1 }, /hysteresis/],
      [
        { regions: [{ name: 'a', tunings: { kp: -1, ki: 0, kd: 0 } }], hysteresis: 0 },
        /regions\[0\]\.tunings\.kp/,
      ],
      [
        {
          regions: [
            { name: 'a', tunings: t },
            { name: 'b', tunings: t },
          ],
          hysteresis: 0,
        },
        /regions\[0\]\.to/,
      ],
      [
        {
          regions: [
            { name: 'a', to: 10, tunings: t },
            { name: 'b', from: 12, tunings: t },
          ],
          hysteresis: 0,
        },
        /must equal/,
      ],
      [
        {
          regions: [
            { name: 'a', to: 10, tunings: t },
            { name: 'b', to: 5, tunings: t },
            { name: 'c', tunings: t },
          ],
          hysteresis: 0,
        },
        /ascending/,
      ],
      [
        {
          regions: [
            { name: 'a', to: 10, tunings: t },
            { name: 'a', tunings: t },
          ],
          hysteresis: 0,
        },
        /unique/,
      ],
    ];
    for (const [options, message] of cases) expect(() => new GainSchedule(options)).toThrow(message);
    const s = threeRegions();
    expect(() => s.select(Number.NaN)).toThrow(/value/);
    expect(() => s.setRegionTunings('tepid', WARM)).toThrow(/name/);
    expect(() => s.setRegionTunings('warm', { kp: 1, ki: Number.POSITIVE_INFINITY, kd: 0 })).toThrow(
      /tunings\.ki/,
    );
    expect(() => s.select(Number.NaN)).toThrow(TypeError);
  });

  it('switches tunings bumplessly through Pid.setTunings while the setpoint ramps across a boundary', () => {
    const plant = new ThermalPlant({ ...DEFAULT_THERMAL_PLANT, noiseC: 0, driftC: 0 });
    const schedule = new GainSchedule({
      regions: [
        // Deliberately different gains so that a bump would show: a beginner's switch would step the
        // output by Δkp·e.
        { name: 'low', to: 45, tunings: { kp: 0.08, ki: 0.0008, kd: 0.4 } },
        { name: 'high', from: 45, tunings: { kp: 0.3, ki: 0.003, kd: 1.5 } },
      ],
      hysteresis: 1,
    });
    const pid = new Pid({
      tunings: schedule.select(30).tunings,
      sampleMs: 1000,
      outMin: 0,
      outMax: 1,
      derivativeFilterN: 10,
    });
    // Settle at 30 °C, then ramp the setpoint at 1 K/min to 60 °C, scheduling on the setpoint.
    const outputs: number[] = [];
    const errors: number[] = [];
    let switchedAt = -1;
    for (let s = 0; s < 4800; s++) {
      const setpoint = s < 1800 ? 30 : Math.min(60, 30 + (s - 1800) / 60);
      const selection = schedule.select(setpoint);
      if (selection.changed) {
        pid.setTunings(selection.tunings);
        switchedAt = s;
      }
      errors.push(setpoint - plant.temperatureC);
      const u = pid.compute(plant.temperatureC, setpoint);
      plant.step(1, u);
      outputs.push(u);
    }
    expect(schedule.current).toBe('high');
    expect(switchedAt).toBe(1800 + 16 * 60); // 46 °C = the boundary plus the hysteresis
    const steps = outputs.map((u, i) => Math.abs(u - (outputs[i - 1] ?? u)));
    // Unsaturated along the ramp, so a bump could not hide in a limit.
    expect(outputs[switchedAt]).toBeGreaterThan(0);
    expect(outputs[switchedAt]).toBeLessThan(1);
    // The step at the switch is of the size the new gains make every second anyway (≈ 0.001) …
    const stepAtSwitch = steps[switchedAt] as number;
    expect(stepAtSwitch).toBeLessThan(1.5 * Math.max(...steps.slice(switchedAt + 1, switchedAt + 31)));
    // … while switching the gains of a beginner's PID would have stepped it by Δkp·e (≈ 0.08 here, 70×).
    const naiveBump = (0.3 - 0.08) * (errors[switchedAt] as number);
    expect(naiveBump).toBeGreaterThan(30 * stepAtSwitch);
  });
});
