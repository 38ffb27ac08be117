import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { YamlSource } from '../../../agent/config/validate-yaml.js';
import { checkLoops, type LoopConfig, loopSchema, loopsSchema } from '../../../agent/control/loop-schema.js';
import { ConfigError, type ConfigIssue } from '../../../agent/core/errors.js';

/** The board's points: one sensor, three actuators. */
const POINTS: Record<string, { writable: boolean }> = {
  'chamber.temp': { writable: false },
  'heater.state': { writable: true },
  'heater.power': { writable: true },
  'fan.state': { writable: true },
};
const pointInfo = (name: string) => ({
  exists: name in POINTS,
  writable: POINTS[name]?.writable ?? false,
});

function loop(overrides: Partial<z.input<typeof loopSchema>> = {}): LoopConfig {
  return loopSchema.parse({
    name: 'chamber',
    input: 'chamber.temp',
    output: 'heater.power',
    setpoint: 45,
    periodMs: 1000,
    tunings: { kp: 0.2, ki: 0.002, kd: 1 },
    ...overrides,
  });
}

/** The issues of a `loops:` section as the loader reports them (path, line, message). */
function yamlIssues(yaml: string): ConfigIssue[] {
  const source = YamlSource.parse('agent.yaml', yaml);
  try {
    source.validate(loopsSchema, ['loops'], (source.value as { loops: unknown }).loops);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return [...e.issues];
  }
}

const CHAMBER_YAML = (extra: string) => `loops:
  - name: chamber
    input: chamber.temp
    output: heater.state
    setpoint: 45
    tunings: { kp: 0.2, ki: 0.002, kd: 1.0 }
${extra}`;

describe('checkLoops', () => {
  it('accepts a loop whose points exist and whose output is writable', () => {
    expect(checkLoops([loop()], pointInfo)).toEqual([]);
  });

  it('names an unknown input point', () => {
    expect(checkLoops([loop({ input: 'chamber.tmp' })], pointInfo)).toEqual([
      { path: 'loops.0.input', message: 'loop chamber: unknown point chamber.tmp' },
    ]);
  });

  it('names an unknown output point', () => {
    expect(checkLoops([loop({ output: 'heater.sate' })], pointInfo)).toEqual([
      { path: 'loops.0.output', message: 'loop chamber: unknown point heater.sate' },
    ]);
  });

  it('refuses an output that is not writable', () => {
    expect(checkLoops([loop({ output: 'chamber.temp' })], pointInfo)).toEqual([
      {
        path: 'loops.0.output',
        message: 'loop chamber: point chamber.temp is not writable (not an actuator)',
      },
    ]);
  });

  it('refuses an output driven by two loops, at the second', () => {
    const loops = [loop({ name: 'a', output: 'heater.state' }), loop({ name: 'b', output: 'heater.state' })];
    expect(checkLoops(loops, pointInfo)).toEqual([
      { path: 'loops.1.output', message: 'loop b: output heater.state is already driven by loop a' },
    ]);
  });

  it('refuses a safeOutput outside the output limits', () => {
    const loops = [loop({ safeOutput: 2 }), loop({ name: 'cold', output: 'fan.state', safeOutput: -1 })];
    expect(checkLoops(loops, pointInfo)).toEqual([
      {
        path: 'loops.0.safeOutput',
        message: 'loop chamber: safeOutput 2 is outside the output limits [0, 1]',
      },
      { path: 'loops.1.safeOutput', message: 'loop cold: safeOutput -1 is outside the output limits [0, 1]' },
    ]);
  });

  it('refuses a worker loop with a gain schedule', () => {
    const schedule = { by: 'setpoint', regions: [{ name: 'all' }] };
    expect(checkLoops([loop({ worker: true, schedule })], pointInfo)).toEqual([
      {
        path: 'loops.0.worker',
        message: 'loop chamber: gain scheduling runs on the main thread; use worker: false with a schedule',
      },
    ]);
  });

  it('names a duplicate loop name and an unknown scheduling point', () => {
    const schedule = { by: 'outdoor.temp', regions: [{ name: 'all' }] };
    const loops = [loop(), loop({ output: 'fan.state', schedule })];
    expect(checkLoops(loops, pointInfo)).toEqual([
      { path: 'loops.1.name', message: 'loop name "chamber" is used twice' },
      { path: 'loops.1.schedule.by', message: 'loop chamber: unknown point outdoor.temp' },
    ]);
  });
});

describe('loopSchema', () => {
  it('rejects a zero or negative periodMs, with the line', () => {
    expect(yamlIssues(CHAMBER_YAML('    periodMs: 0\n'))).toEqual([
      { path: 'loops.0.periodMs', line: 7, message: 'expected a number > 0' },
    ]);
    expect(yamlIssues(CHAMBER_YAML('    periodMs: -1000\n'))).toEqual([
      { path: 'loops.0.periodMs', line: 7, message: 'expected a number > 0' },
    ]);
    expect(yamlIssues(CHAMBER_YAML('    periodMs: 1000\n'))).toEqual([]);
  });

  it('rejects a relay window too short for its minimum on and off times', () => {
    const tp = '    periodMs: 1000\n    timeProportioning: { windowMs: 1000, minOnMs: 600, minOffMs: 600 }\n';
    expect(yamlIssues(CHAMBER_YAML(tp))).toEqual([
      { path: 'loops.0.timeProportioning', line: 8, message: 'expected minOnMs + minOffMs <= windowMs' },
    ]);
  });

  it('rejects gain regions that are not contiguous, with the line of the regions', () => {
    const schedule = `    periodMs: 1000
    schedule:
      by: setpoint
      regions:
        - { name: warm, to: 50 }
        - { name: hot, from: 60 }
`;
    expect(yamlIssues(CHAMBER_YAML(schedule))).toEqual([
      {
        path: 'loops.0.schedule.regions',
        line: 10,
        message: 'regions[0].to (50) must equal regions[1].from (60)',
      },
    ]);
  });

  it('rejects an autotune minInput that is not below maxInput', () => {
    const at = '    periodMs: 1000\n    autotune: { minInput: 70, maxInput: 70 }\n';
    expect(yamlIssues(CHAMBER_YAML(at))).toEqual([
      { path: 'loops.0.autotune.maxInput', line: 8, message: 'expected minInput < maxInput' },
    ]);
  });
});
