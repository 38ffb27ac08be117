import { describe, expect, it } from 'vitest';
import { YamlSource } from '../../../agent/config/validate-yaml.js';
import { AlarmManager } from '../../../agent/control/alarms.js';
import { checkRules } from '../../../agent/control/check-rules.js';
import { RuleEngine } from '../../../agent/control/rule-engine.js';
import { type Condition, type Rule, rulesSchema } from '../../../agent/control/rule-schema.js';
import type { LoopControl, LoopMode, LoopRegistry, PidTunings } from '../../../agent/control/types.js';
import { ConfigError } from '../../../agent/core/errors.js';
import { createLogger } from '../../../agent/core/log.js';
import { PointTable } from '../../../agent/core/points.js';
import { FakeClock } from '../../support/fake-clock.js';
import { rejection } from '../../support/rejection.js';

/** The over-temperature interlock, as a technician writes it in agent.yaml. */
const OVERTEMP_YAML = `
rules:
  - name: chamber.overtemp
    interlock: true
    when: { point: chamber.temp, above: 80, hysteresis: 5 }
    forMs: 2000
    actions:
      - force: { point: heater.state, value: false }
      - alarm: { severity: critical, message: "chamber above 80 °C: heater locked off" }
`;

function parseRules(yaml: string): Rule[] {
  const source = YamlSource.parse('agent.yaml', yaml);
  const doc = source.value as { rules: unknown };
  return source.validate(rulesSchema, ['rules'], doc.rules);
}

class TestLoop implements LoopControl {
  readonly calls: string[] = [];
  constructor(readonly name: string) {}
  setMode(mode: LoopMode, source: string, manualOutput?: number): void {
    this.calls.push(`${source}: mode ${mode}${manualOutput === undefined ? '' : ` ${manualOutput}`}`);
  }
  setSetpoint(value: number, source: string): void {
    this.calls.push(`${source}: setpoint ${value}`);
  }
  setTunings(tunings: PidTunings, source: string): void {
    this.calls.push(`${source}: tunings ${tunings.kp}/${tunings.ki}/${tunings.kd}`);
  }
}

interface LogLine {
  level: string;
  msg: string;
  rule?: string;
  action?: string;
  code?: string;
  err?: string;
}

/** A sensor reading, a fault, or a faulted reading whose value must not be acted on. */
type Input = number | 'fault' | { faulty: number };

function setup(rules: readonly unknown[] | Rule[]) {
  const clock = new FakeClock();
  const points = new PointTable({ clock });
  points.declare({ name: 'chamber.temp', unit: 'Cel', staleAfterMs: 10_000 });
  points.declare({ name: 'door.open' });
  points.declare({ name: 'heater.state', writable: true });
  points.declare({ name: 'fan.state', writable: true });
  // The relay behind heater.state: records what reached it, and can refuse (not connected).
  const relay = { refuse: 0, writes: [] as string[] };
  points.onWrite('heater.state', async (value, source) => {
    if (relay.refuse > 0) {
      relay.refuse--;
      throw new Error('relay not connected');
    }
    relay.writes.push(`${String(value)} by ${source}`);
  });
  const chamber = new TestLoop('chamber');
  const loops: LoopRegistry = {
    get: (name) => (name === 'chamber' ? chamber : undefined),
    names: () => ['chamber'],
  };
  const alarms = new AlarmManager({ clock });
  const logs: LogLine[] = [];
  const log = createLogger({
    destination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
    pretty: false,
    level: 'debug',
  });
  const engine = new RuleEngine({ clock, points, loops, alarms, log }, rulesSchema.parse(rules));
  const input = (value: Input, point = 'chamber.temp') => {
    if (value === 'fault') points.setQuality(point, 'fault');
    else if (typeof value === 'number') points.update(point, value, 'sensor');
    else points.update(point, value.faulty, 'sensor', 'fault');
  };
  const tick = async (ms = 100) => {
    await clock.advance(ms);
    await engine.evaluate();
  };
  return { clock, points, relay, chamber, alarms, logs, engine, input, tick };
}

const alarmAction = { alarm: { severity: 'major', message: 'test' } };

describe('RuleEngine: thresholds with hysteresis', () => {
  const cases: [string, Condition, Input[], boolean[]][] = [
    [
      'above 80 with 5 of hysteresis trips above 80 and resets only below 75',
      { point: 'chamber.temp', above: 80, hysteresis: 5 },
      [79, 80, 80.1, 78, 75.1, 75, 74.9, 81],
      [false, false, true, true, true, true, false, true],
    ],
    [
      'below 10 with 2 of hysteresis trips below 10 and resets only above 12',
      { point: 'chamber.temp', below: 10, hysteresis: 2 },
      [11, 10, 9.9, 11, 12, 12.1, 9],
      [false, false, true, true, true, false, true],
    ],
    [
      'without hysteresis a value exactly at the limit keeps the state',
      { point: 'chamber.temp', above: 80 },
      [81, 80, 79.9, 80, 80.1],
      [true, true, false, false, true],
    ],
    [
      'a value inside the band does not trip a reset latch',
      { point: 'chamber.temp', above: 80, hysteresis: 5 },
      [77, 79.9, 76],
      [false, false, false],
    ],
    [
      'a faulted reading neither trips nor resets, whatever its value',
      { point: 'chamber.temp', above: 80, hysteresis: 5 },
      [70, { faulty: 95 }, 'fault', 81, { faulty: 20 }, 'fault', 70],
      [false, false, false, true, true, true, false],
    ],
  ];

  it.each(cases)('%s', async (_title, when, inputs, expected) => {
    const s = setup([{ name: 'hot', when, actions: [alarmAction] }]);
    const seen: boolean[] = [];
    for (const value of inputs) {
      s.input(value);
      await s.tick();
      seen.push(s.engine.isActive('hot'));
    }
    expect(seen).toEqual(expected);
  });
});

describe('RuleEngine: debounce', () => {
  // Each segment sets the input, then lets `ms` pass in 100 ms ticks; the rule's state is read at its end.
  const cases: [string, { forMs?: number; clearForMs?: number }, [Input, number][], boolean[]][] = [
    ['a condition that holds 4.9 s of forMs 5000 does not activate', { forMs: 5000 }, [[90, 4900]], [false]],
    ['a condition that holds 5.0 s of forMs 5000 activates', { forMs: 5000 }, [[90, 5000]], [true]],
    [
      'a blip restarts the timer',
      { forMs: 5000 },
      [
        [90, 3000],
        [70, 100],
        [90, 4900],
        [90, 100],
      ],
      [false, false, false, true],
    ],
    [
      'a fault restarts the timer: "held continuously" cannot span a gap',
      { forMs: 5000 },
      [
        [90, 3000],
        ['fault', 1000],
        [90, 4900],
        [90, 100],
      ],
      [false, false, false, true],
    ],
    [
      'clearForMs keeps the rule active until the condition has been false that long',
      { forMs: 5000, clearForMs: 2000 },
      [
        [90, 5000],
        [70, 1900],
        [90, 100],
        [70, 1900],
        [70, 100],
      ],
      [true, true, true, true, false],
    ],
    [
      'without forMs the rule activates on the first tick',
      { clearForMs: 2000 },
      [
        [90, 0],
        [70, 1999],
        [70, 1],
      ],
      [true, true, false],
    ],
  ];

  it.each(cases)('%s', async (_title, timing, segments, expected) => {
    const s = setup([
      { name: 'hot', when: { point: 'chamber.temp', above: 80 }, ...timing, actions: [alarmAction] },
    ]);
    const seen: boolean[] = [];
    for (const [value, ms] of segments) {
      s.input(value);
      await s.engine.evaluate();
      for (let t = 0; t < ms; t += 100) {
        // Keep the reading fresh, as a polled sensor would.
        if (value !== 'fault') s.input(value);
        await s.tick(Math.min(100, ms - t));
      }
      seen.push(s.engine.isActive('hot'));
    }
    expect(seen).toEqual(expected);
  });
});

describe('RuleEngine: rate of change', () => {
  // One reading per second, each evaluated as it arrives.
  const cases: [string, Condition, number[], boolean[]][] = [
    [
      'a slow rise (1 °C/s) does not trip risingFaster 2',
      { point: 'chamber.temp', risingFaster: 2, overMs: 5000 },
      [20, 21, 22, 23, 24, 25, 26],
      [false, false, false, false, false, false, false],
    ],
    [
      'a fast rise (3 °C/s) trips once the history covers the window',
      { point: 'chamber.temp', risingFaster: 2, overMs: 5000 },
      [20, 23, 26, 29, 32, 35, 38],
      [false, false, false, false, false, true, true],
    ],
    [
      'a step stays in the window for overMs, then the rate is zero again',
      { point: 'chamber.temp', risingFaster: 2, overMs: 5000 },
      [20, 20, 20, 20, 20, 20, 35, 35, 35, 35, 35, 35],
      [false, false, false, false, false, false, true, true, true, true, true, false],
    ],
    [
      'fallingFaster takes a positive rate and trips on a fall',
      { point: 'chamber.temp', fallingFaster: 2, overMs: 5000 },
      [50, 47, 44, 41, 38, 35, 35, 35],
      [false, false, false, false, false, true, true, false],
    ],
  ];

  it.each(cases)('%s', async (_title, when, values, expected) => {
    const s = setup([{ name: 'ramp', when, actions: [alarmAction] }]);
    const seen: boolean[] = [];
    for (const value of values) {
      await s.clock.advance(1000);
      s.input(value);
      await s.engine.evaluate();
      seen.push(s.engine.isActive('ramp'));
    }
    expect(seen).toEqual(expected);
  });

  it('is unknown while the history is shorter than the window, and while the point is not good', async () => {
    const s = setup([
      {
        name: 'ramp',
        when: { point: 'chamber.temp', risingFaster: 2, overMs: 2000 },
        actions: [alarmAction],
      },
    ]);
    const conditions: unknown[] = [];
    for (const value of [20, 30, 40, 'fault', 60] as const) {
      await s.clock.advance(1000);
      s.input(value);
      await s.engine.evaluate();
      conditions.push(s.engine.status()[0]?.condition);
    }
    expect(conditions).toEqual([undefined, undefined, true, undefined, true]);
  });
});

describe('RuleEngine: quality conditions', () => {
  const cases: ['stale' | 'fault' | 'not-good', 'never reported' | 'good' | 'stale' | 'fault', boolean][] = [
    ['not-good', 'never reported', true],
    ['not-good', 'good', false],
    ['not-good', 'stale', true],
    ['not-good', 'fault', true],
    ['stale', 'stale', true],
    ['stale', 'fault', false],
    ['fault', 'fault', true],
    ['fault', 'stale', false],
    ['fault', 'good', false],
  ];

  it.each(cases)('quality %s, on a point that is %s, is %s', async (quality, state, expected) => {
    const s = setup([
      { name: 'sensor.lost', when: { point: 'chamber.temp', quality }, actions: [alarmAction] },
    ]);
    if (state !== 'never reported') s.input(20);
    if (state === 'fault') s.input('fault');
    if (state === 'stale') {
      await s.clock.advance(10_001);
      s.points.sweepStale();
    }
    await s.engine.evaluate();
    expect(s.engine.isActive('sensor.lost')).toBe(expected);
  });
});

describe('RuleEngine: all / any / not in three-valued logic', () => {
  const hot: Condition = { point: 'chamber.temp', above: 80 };
  const warm: Condition = { point: 'chamber.temp', above: 30 };
  const doorOpen: Condition = { point: 'door.open', is: true };
  const cases: [string, Condition, Input, boolean, boolean | undefined][] = [
    ['all: every part true', { all: [doorOpen, warm] }, 35, true, true],
    ['all: one part false', { all: [doorOpen, warm] }, 35, false, false],
    ['all: false wins over unknown', { all: [doorOpen, warm] }, 'fault', false, false],
    ['all: unknown when nothing is false', { all: [doorOpen, warm] }, 'fault', true, undefined],
    ['any: every part false', { any: [hot, doorOpen] }, 20, false, false],
    ['any: true wins over unknown', { any: [hot, doorOpen] }, 'fault', true, true],
    ['any: unknown when nothing is true', { any: [hot, doorOpen] }, 'fault', false, undefined],
    [
      'any: a hot reading or a dead sensor',
      { any: [hot, { point: 'chamber.temp', quality: 'fault' }] },
      'fault',
      false,
      true,
    ],
    ['not: inverts', { not: doorOpen }, 20, false, true],
    ['not: unknown stays unknown', { not: hot }, 'fault', false, undefined],
    ['nested', { not: { any: [hot, { all: [doorOpen, warm] }] } }, 50, true, false],
  ];

  it.each(cases)('%s', async (_title, when, temp, door, expected) => {
    const s = setup([{ name: 'logic', when, actions: [alarmAction] }]);
    s.input(20);
    s.input(temp);
    s.points.update('door.open', door, 'contact');
    await s.engine.evaluate();
    expect(s.engine.status()[0]?.condition).toBe(expected);
  });
});

describe('RuleEngine: interlocks', () => {
  it('holds the heater off against a loop that writes it every tick, then lets the loop back', async () => {
    const s = setup(parseRules(OVERTEMP_YAML));
    const loopWrite = () => s.points.write('heater.state', true, 'loop:chamber');
    s.input(85);
    await s.engine.evaluate();
    for (let t = 0; t < 1900; t += 100) {
      await loopWrite(); // forMs has not passed yet: the loop still drives the heater
      await s.tick();
    }
    await loopWrite();
    await s.tick(); // 2000 ms of over-temperature
    expect(s.engine.isActive('chamber.overtemp')).toBe(true);
    expect(s.points.get('heater.state')).toMatchObject({ value: false, forcedBy: 'rule:chamber.overtemp' });
    expect(await rejection(loopWrite())).toMatchObject({ code: 'EFORCED', point: 'heater.state' });
    expect(s.alarms.list()).toMatchObject([
      {
        id: 'chamber.overtemp',
        state: 'active-unacked',
        severity: 'critical',
        source: 'rule:chamber.overtemp',
      },
    ]);

    s.input(76); // inside the hysteresis band: still held
    await s.tick();
    expect(await rejection(loopWrite())).toMatchObject({ code: 'EFORCED' });

    s.input(74);
    await s.tick();
    expect(s.engine.isActive('chamber.overtemp')).toBe(false);
    await loopWrite();
    expect(s.points.get('heater.state')).toMatchObject({
      value: true,
      source: 'loop:chamber',
      forcedBy: undefined,
    });
    expect(s.alarms.state('chamber.overtemp')).toBe('cleared-unacked');
    expect(s.relay.writes.slice(-3)).toEqual([
      'true by loop:chamber',
      'false by rule:chamber.overtemp',
      'true by loop:chamber',
    ]);
  });

  it('evaluates interlocks before other rules, so a rule’s write never reaches a forced output', async () => {
    const s = setup([
      {
        name: 'warm',
        when: { point: 'chamber.temp', above: 70 },
        actions: [{ set: { point: 'heater.state', value: true } }],
      },
      {
        name: 'overtemp',
        interlock: true,
        when: { point: 'chamber.temp', above: 80 },
        actions: [{ force: { point: 'heater.state', value: false } }],
      },
    ]);
    s.input(90);
    await s.engine.evaluate();
    expect(s.engine.status().map((r) => r.name)).toEqual(['overtemp', 'warm']);
    expect(s.relay.writes).toEqual(['false by rule:overtemp']);
    expect(s.logs.filter((l) => l.level === 'warn')).toMatchObject([
      { msg: 'rule action failed', rule: 'warm', action: 'actions.0', code: 'EFORCED' },
    ]);
  });

  it('retries a force the device refused on every tick, logging the failure once and the recovery', async () => {
    const s = setup([
      {
        name: 'overtemp',
        interlock: true,
        when: { point: 'chamber.temp', above: 80 },
        actions: [{ force: { point: 'heater.state', value: false } }],
      },
    ]);
    s.relay.refuse = 3;
    s.input(90);
    await s.engine.evaluate();
    expect(s.engine.status()[0]?.pendingForces).toEqual(['heater.state']);
    // The force stands in the point table even though the relay has not taken it yet.
    expect(await rejection(s.points.write('heater.state', true, 'loop:chamber'))).toMatchObject({
      code: 'EFORCED',
    });
    await s.tick();
    await s.tick();
    expect(s.engine.status()[0]?.pendingForces).toEqual(['heater.state']);
    await s.tick();
    expect(s.engine.status()[0]?.pendingForces).toEqual([]);
    expect(s.points.get('heater.state')).toMatchObject({ value: false, forcedBy: 'rule:overtemp' });
    expect(s.relay.writes).toEqual(['false by rule:overtemp']);
    expect(s.logs.filter((l) => l.rule === 'overtemp' && l.action === 'actions.0')).toMatchObject([
      { level: 'warn', msg: 'rule action failed', err: 'relay not connected' },
      { level: 'debug', msg: 'rule action failed again' },
      { level: 'debug', msg: 'rule action failed again' },
      { level: 'info', msg: 'rule action succeeded' },
    ]);
  });

  it('releases a force that never took when the rule clears', async () => {
    const s = setup([
      {
        name: 'overtemp',
        interlock: true,
        when: { point: 'chamber.temp', above: 80 },
        actions: [{ force: { point: 'heater.state', value: false } }],
      },
    ]);
    s.relay.refuse = 100;
    s.input(90);
    await s.tick();
    s.input(70);
    await s.tick();
    s.relay.refuse = 0;
    await s.points.write('heater.state', true, 'loop:chamber');
    expect(s.relay.writes).toEqual(['true by loop:chamber']);
  });
});

describe('RuleEngine: actions', () => {
  const doorRule = {
    name: 'door',
    when: { point: 'door.open', is: true },
    actions: [
      { loop: { name: 'chamber', mode: 'manual', output: 0 } },
      { set: { point: 'fan.state', value: false } },
      { alarm: { severity: 'warning', message: 'door open' } },
    ],
    onClear: [{ loop: { name: 'chamber', mode: 'auto' } }, { setpoint: { loop: 'chamber', value: 40 } }],
  };

  it('runs its actions once on activation and onClear once on clear', async () => {
    const s = setup([doorRule]);
    s.points.update('door.open', true, 'contact');
    await s.tick();
    expect(s.chamber.calls).toEqual(['rule:door: mode manual 0']);
    expect(s.points.get('fan.state')).toMatchObject({ value: false, source: 'rule:door' });
    expect(s.alarms.list()).toMatchObject([
      { id: 'door', severity: 'warning', message: 'door open', state: 'active-unacked' },
    ]);

    // `set` is one-shot: a technician may override it while the rule stays active.
    await s.points.write('fan.state', true, 'console:ana');
    await s.tick();
    await s.tick();
    expect(s.points.get('fan.state')).toMatchObject({ value: true, source: 'console:ana' });
    expect(s.chamber.calls).toHaveLength(1);

    s.points.update('door.open', false, 'contact');
    await s.tick();
    expect(s.chamber.calls).toEqual([
      'rule:door: mode manual 0',
      'rule:door: mode auto',
      'rule:door: setpoint 40',
    ]);
    expect(s.alarms.state('door')).toBe('cleared-unacked');
  });

  it('logs an action that cannot run and never rejects from evaluate()', async () => {
    const s = setup([
      {
        name: 'broken',
        when: { point: 'door.open', is: true },
        actions: [
          { loop: { name: 'humidity', mode: 'auto' } },
          { set: { point: 'no.such.point', value: 1 } },
          { set: { point: 'fan.state', value: true } },
        ],
      },
    ]);
    s.points.update('door.open', true, 'contact');
    await expect(s.engine.evaluate()).resolves.toBeUndefined();
    expect(s.logs.filter((l) => l.level === 'warn')).toMatchObject([
      { rule: 'broken', action: 'actions.0', code: 'EUNKNOWN_LOOP', err: 'unknown loop humidity' },
      { rule: 'broken', action: 'actions.1', code: 'EUNKNOWN_POINT' },
    ]);
    expect(s.points.get('fan.state')).toMatchObject({ value: true, source: 'rule:broken' });
  });

  it('refuses rules that would make the engine unsound', () => {
    const force = { force: { point: 'heater.state', value: false } };
    const when = { point: 'door.open', is: true };
    expect(() => setup([{ name: 'a', when, actions: [force] }])).toThrow(
      new TypeError('rules[0] (a): only interlock rules may force a point'),
    );
    expect(() =>
      setup([
        { name: 'a', when, actions: [alarmAction] },
        { name: 'a', when, actions: [alarmAction] },
      ]),
    ).toThrow(new TypeError('rules[1]: duplicate rule name "a"'));
  });
});

describe('rulesSchema', () => {
  it('reads the over-temperature interlock from YAML with its defaults', () => {
    expect(parseRules(OVERTEMP_YAML)).toEqual([
      {
        name: 'chamber.overtemp',
        interlock: true,
        when: { point: 'chamber.temp', above: 80, hysteresis: 5 },
        forMs: 2000,
        actions: [
          { force: { point: 'heater.state', value: false } },
          { alarm: { severity: 'critical', message: 'chamber above 80 °C: heater locked off' } },
        ],
        onClear: [],
      },
    ]);
  });

  it('names the variant the author meant, with file, line and path', () => {
    const yaml = `rules:
  - name: hot
    when:
      all:
        - { point: chamber.temp, abov: 80 }
        - { point: door.open, is: yes }
    actions:
      - force: { point: heater.state, value: false, hold: true }
      - loop: { name: chamber, mode: manual }
      - blink: { point: fan.state }
`;
    let error: unknown;
    try {
      parseRules(yaml);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        path: 'rules.0.when.all.0',
        line: 5,
        message:
          'expected a condition with one of: all, any, not, above, below, risingFaster, fallingFaster, quality, is',
      },
      { path: 'rules.0.when.all.1.is', line: 6, message: 'expected boolean, received string' },
      { path: 'rules.0.actions.0.force.hold', line: 8, message: 'unknown field "hold"' },
      {
        path: 'rules.0.actions.1.loop.output',
        line: 9,
        message: 'required field is missing (expected number)',
      },
      {
        path: 'rules.0.actions.2',
        line: 10,
        message: 'expected an action with one of: set, force, loop, setpoint, alarm',
      },
    ]);
  });
});

describe('checkRules', () => {
  const known: Record<string, { exists: boolean; writable: boolean }> = {
    'chamber.temp': { exists: true, writable: false },
    'door.open': { exists: true, writable: false },
    'heater.state': { exists: true, writable: true },
    'fan.state': { exists: true, writable: true },
    'vent.state': { exists: true, writable: true },
  };
  const context = {
    points: (name: string) => known[name] ?? { exists: false, writable: false },
    loops: ['chamber', 'humidity'],
  };
  const check = (rules: unknown[]) => checkRules(rulesSchema.parse(rules), context);

  it('accepts the over-temperature interlock', () => {
    expect(checkRules(parseRules(OVERTEMP_YAML), context)).toEqual([]);
  });

  it('names the rule and the field of every problem', () => {
    expect(
      check([
        {
          name: 'door',
          when: {
            all: [
              { point: 'door.opn', is: true },
              { point: 'chamber.temp', risingFaster: 1, overMs: 0 },
            ],
          },
          forMs: -5,
          clearForMs: 0,
          actions: [
            { set: { point: 'chamber.temp', value: 1 } },
            { force: { point: 'heater.state', value: false } },
            { loop: { name: 'chmber', mode: 'auto' } },
            { setpoint: { loop: 'humid', value: 50 } },
            { alarm: { severity: 'minor', message: 'door open' } },
            { alarm: { severity: 'major', message: 'door open!' } },
            { set: { point: 'fan.speed', value: 3 } },
          ],
          onClear: [
            { force: { point: 'fan.state', value: true } },
            { alarm: { severity: 'info', message: 'closed' } },
          ],
        },
        { name: 'door', when: { point: 'door.open', is: false }, actions: [alarmAction] },
      ]),
    ).toEqual([
      { path: 'rules.0.forMs', message: 'rule "door": forMs must be > 0, got -5' },
      { path: 'rules.0.clearForMs', message: 'rule "door": clearForMs must be > 0, got 0' },
      { path: 'rules.0.when.all.0.point', message: 'rule "door": unknown point "door.opn"' },
      { path: 'rules.0.when.all.1.overMs', message: 'rule "door": overMs must be > 0, got 0' },
      { path: 'rules.0.actions.0.set.point', message: 'rule "door": point "chamber.temp" is not writable' },
      {
        path: 'rules.0.actions.1.force',
        message: 'rule "door": only interlock rules may force a point (add interlock: true, or use set)',
      },
      {
        path: 'rules.0.actions.2.loop.name',
        message: 'rule "door": unknown loop "chmber" (known: chamber, humidity)',
      },
      {
        path: 'rules.0.actions.3.setpoint.loop',
        message: 'rule "door": unknown loop "humid" (known: chamber, humidity)',
      },
      {
        path: 'rules.0.actions.5.alarm',
        message: 'rule "door": a rule raises at most one alarm (its id is the rule\'s name)',
      },
      { path: 'rules.0.actions.6.set.point', message: 'rule "door": unknown point "fan.speed"' },
      {
        path: 'rules.0.onClear.0.force',
        message:
          'rule "door": force is not allowed in onClear (a rule\'s forces are released when it clears)',
      },
      {
        path: 'rules.0.onClear.1.alarm',
        message: 'rule "door": alarm is not allowed in onClear (the rule\'s alarm is cleared when it clears)',
      },
      { path: 'rules.1.name', message: 'rule "door": duplicate rule name (first used by rules.0)' },
    ]);
  });

  it('says when no loops are configured, and uses the list’s own path', () => {
    const rules = rulesSchema.parse([
      {
        name: 'door',
        when: { point: 'door.open', is: true },
        actions: [{ setpoint: { loop: 'chamber', value: 1 } }],
      },
    ]);
    expect(checkRules(rules, { ...context, loops: [], path: 'control.rules' })).toEqual([
      {
        path: 'control.rules.0.actions.0.setpoint.loop',
        message: 'rule "door": unknown loop "chamber" (no loops are configured)',
      },
    ]);
  });

  it('finds rules that write each other’s inputs, counting interlock forces', () => {
    const set = (point: string, value: boolean) => ({ set: { point, value } });
    expect(
      check([
        { name: 'fan-on', when: { point: 'heater.state', is: true }, actions: [set('fan.state', true)] },
        { name: 'chain-end', when: { point: 'chamber.temp', above: 50 }, actions: [set('vent.state', true)] },
        {
          name: 'heater-off',
          interlock: true,
          when: {
            any: [
              { point: 'fan.state', is: true },
              { point: 'door.open', is: true },
            ],
          },
          actions: [{ force: { point: 'vent.state', value: false } }],
        },
        { name: 'vent', when: { point: 'vent.state', is: false }, actions: [set('heater.state', false)] },
      ]),
    ).toEqual([
      {
        path: 'rules.0.actions.0.set.point',
        message:
          'rule "fan-on" is in a cycle of rules writing each other\'s inputs: fan-on → fan.state → heater-off → vent.state → vent → heater.state → fan-on',
      },
    ]);
  });

  it('reports a rule that writes its own input', () => {
    expect(
      check([
        {
          name: 'self',
          when: { point: 'fan.state', is: true },
          actions: [alarmAction],
          onClear: [{ set: { point: 'fan.state', value: true } }],
        },
      ]),
    ).toEqual([
      {
        path: 'rules.0.onClear.0.set.point',
        message: 'rule "self" is in a cycle of rules writing each other\'s inputs: self → fan.state → self',
      },
    ]);
  });

  it('accepts a chain of rules that does not loop back', () => {
    expect(
      check([
        {
          name: 'a',
          when: { point: 'door.open', is: true },
          actions: [{ set: { point: 'fan.state', value: true } }],
        },
        {
          name: 'b',
          when: { point: 'fan.state', is: true },
          actions: [{ set: { point: 'vent.state', value: true } }],
        },
        {
          name: 'c',
          when: { point: 'vent.state', is: true },
          actions: [{ set: { point: 'heater.state', value: false } }],
        },
      ]),
    ).toEqual([]);
  });
});
