/**
 * A rule set from the fleet (`kind: rules`), swapped live: checked like agent.yaml (a mistake is
 * refused with its component, file, line and field, and the running set keeps running), handed over
 * bumplessly (an unchanged rule's raised alarm stays raised; loop settings go through the loop),
 * and put back when a new rule's action fails during its proof.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRuleSet } from '../../../agent/config/rule-set-file.js';
import { AlarmManager } from '../../../agent/control/alarms.js';
import { RuleSetComponent, type TunableLoops } from '../../../agent/control/rule-set-component.js';
import type { LoopMode, PidTunings } from '../../../agent/control/types.js';
import type { LiveActivation } from '../../../agent/core/live-switch.js';
import { silentLogger } from '../../../agent/core/log.js';
import { PointTable } from '../../../agent/core/points.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('rule-set-');

class TestLoop {
  readonly calls: string[] = [];
  setpoint = 45;
  tunings: PidTunings = { kp: 0.2, ki: 0.002, kd: 1 };
  constructor(readonly name: string) {}
  setMode(mode: LoopMode, source: string): void {
    this.calls.push(`${source}: mode ${mode}`);
  }
  setSetpoint(value: number, source: string): void {
    this.calls.push(`${source}: setpoint ${value}`);
  }
  setTunings(tunings: PidTunings, source: string): void {
    this.tunings = tunings;
    this.calls.push(`${source}: tunings ${tunings.kp}/${tunings.ki}/${tunings.kd}`);
  }
  status() {
    return { setpoint: this.setpoint, tunings: this.tunings };
  }
}

async function setup() {
  const dir = await newDir();
  const clock = new FakeClock();
  const points = new PointTable({ clock });
  points.declare({ name: 'chamber.temp', unit: 'Cel' });
  points.declare({ name: 'fan.state', writable: true });
  points.declare({
    name: 'loop.chamber.setpoint',
    unit: 'Cel',
    writable: true,
    limits: { min: 10, max: 65 },
  });
  const fan = { refuse: false, writes: [] as string[] };
  points.onWrite('fan.state', async (value, source) => {
    if (fan.refuse) throw new Error('fan relay not connected');
    fan.writes.push(`${String(value)} by ${source}`);
  });
  points.onWrite('loop.chamber.setpoint', async () => undefined);
  const chamber = new TestLoop('chamber');
  const loops: TunableLoops = {
    get: (name) => (name === 'chamber' ? chamber : undefined),
    names: () => ['chamber'],
  };
  const alarms = new AlarmManager({ clock });
  const alarmEvents: string[] = [];
  alarms.on('alarm', (e) => alarmEvents.push(`${e.id} ${e.state}`));
  const set = new RuleSetComponent(
    {
      clock,
      points,
      loops,
      alarms,
      log: silentLogger(),
      read: (slot) =>
        readRuleSet('chamber-rules', slot, {
          points: (name) => ({ exists: points.has(name), writable: points.get(name)?.writable ?? false }),
          loops: loops.names(),
          reservedRules: new Set(['chamber.overtemp']),
        }),
    },
    'chamber-rules',
  );
  let n = 0;
  const slot = async (yaml: string) => {
    const d = path.join(dir, `slot-${++n}`);
    await mkdir(d);
    await writeFile(path.join(d, 'rules.yaml'), yaml);
    return d;
  };
  /** Runs the scheduler's part — a scan every 100 ms — until the switch answers. */
  const activate = async (d: string, goodOutputs = 3): Promise<LiveActivation> => {
    let answer: LiveActivation | undefined;
    const pending = set.activate(d, { goodOutputs, deadlineMs: 5000 }).then((a) => {
      answer = a;
    });
    // The slot is read from disk (real I/O) while fake time only moves when told.
    for (let i = 0; i < 10_000 && answer === undefined; i++) {
      await set.evaluate();
      await clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await pending;
    return answer!;
  };
  return { clock, points, alarms, alarmEvents, chamber, fan, set, slot, activate };
}

const WARM = `
rules:
  - name: chamber.warm
    when: { point: chamber.temp, above: 50 }
    forMs: 200
    actions:
      - alarm: { severity: warning, message: "chamber above 50 °C" }
`;

describe('a rule set swapped live', () => {
  it('loads, runs its rules, and keeps an unchanged rule’s raised alarm across a swap', async () => {
    const t = await setup();
    expect(await t.activate(await t.slot(WARM))).toEqual({ ok: true });
    t.points.update('chamber.temp', 55, 'test');
    for (let i = 0; i < 5; i++) {
      await t.set.evaluate();
      await t.clock.advance(100);
    }
    expect(t.alarms.state('chamber.warm')).toBe('active-unacked');

    // v2 keeps chamber.warm as it was, adds a fan rule and retunes the loop.
    const v2 = `${WARM}
  - name: chamber.hot-fan
    when: { point: chamber.temp, above: 60 }
    actions:
      - set: { point: fan.state, value: true }
loops:
  - { name: chamber, setpoint: 50, tunings: { kp: 0.15, ki: 0.0015, kd: 1.0 } }
`;
    expect(await t.activate(await t.slot(v2))).toEqual({ ok: true });
    expect(t.alarmEvents.filter((e) => e.startsWith('chamber.warm'))).toEqual([
      'chamber.warm active-unacked',
    ]);
    expect(t.chamber.calls).toEqual(['rules:chamber-rules: tunings 0.15/0.0015/1']);
    expect(t.points.get('loop.chamber.setpoint')?.value).toBe(50);
    expect(t.set.status().map((r) => r.name)).toEqual(['chamber.warm', 'chamber.hot-fan']);
  });

  it('refuses a set with a mistake, naming the component, file, line and field; the old set runs on', async () => {
    const t = await setup();
    await t.activate(await t.slot(WARM));
    const broken = await t.slot(`rules:
  - name: chamber.cold
    when: { point: chamber.tmp, below: 10 }
    actions:
      - alarm: { severity: warning, message: "cold" }
  - name: chamber.overtemp
    when: { point: chamber.temp, above: 90 }
    actions:
      - alarm: { severity: major, message: "hot" }
`);
    const answer = await t.activate(broken);
    expect(answer).toMatchObject({ ok: false, reason: 'invalid' });
    const message = answer.ok ? '' : answer.message;
    expect(message).toContain(
      `${path.join(broken, 'rules.yaml')}:3: rules.0.when.point: rules component chamber-rules:`,
    );
    expect(message).toMatch(/chamber\.tmp/);
    expect(message).toMatch(/:6: rules\.1\.name: .*agent\.yaml already has a rule of that name/);
    expect(t.set.status().map((r) => r.name)).toEqual(['chamber.warm']);
  });

  it('refuses interlocks and unknown loops, and a YAML syntax error with its line', async () => {
    const t = await setup();
    const interlock = await t.activate(
      await t.slot(`rules:
  - name: fan.lock
    interlock: true
    when: { point: chamber.temp, above: 90 }
    actions:
      - force: { point: fan.state, value: true }
loops:
  - { name: oven, setpoint: 40 }
`),
    );
    expect(interlock.ok ? '' : interlock.message).toMatch(
      /:3: rules\.0\.interlock: .*interlocks stay in agent\.yaml/,
    );
    expect(interlock.ok ? '' : interlock.message).toMatch(/:8: loops\.0\.name: .*no loop "oven"/);
    const syntax = await t.activate(await t.slot('rules:\n  - name: [unclosed\n'));
    expect(syntax).toMatchObject({ ok: false, reason: 'invalid' });
    expect(syntax.ok ? '' : syntax.message).toMatch(/invalid YAML/);
  });

  it('puts the previous set and loop settings back when a new rule’s action fails during the proof', async () => {
    const t = await setup();
    await t.activate(await t.slot(WARM));
    t.points.update('chamber.temp', 62, 'test');
    t.fan.refuse = true;
    const answer = await t.activate(
      await t.slot(`rules:
  - name: chamber.hot-fan
    when: { point: chamber.temp, above: 60 }
    actions:
      - set: { point: fan.state, value: true }
loops:
  - { name: chamber, tunings: { kp: 1, ki: 1, kd: 1 } }
`),
      5,
    );
    expect(answer).toMatchObject({ ok: false, reason: 'bad-output' });
    expect(t.set.status().map((r) => r.name)).toEqual(['chamber.warm']);
    expect(t.chamber.tunings).toEqual({ kp: 0.2, ki: 0.002, kd: 1 });
    expect(t.chamber.calls.at(-1)).toBe('rules:chamber-rules:rollback: tunings 0.2/0.002/1');
  });

  it('refuses a setpoint outside the loop’s limits and keeps the old one', async () => {
    const t = await setup();
    const answer = await t.activate(await t.slot('loops:\n  - { name: chamber, setpoint: 500 }\n'));
    expect(answer).toMatchObject({ ok: false, reason: 'invalid' });
    expect(answer.ok ? '' : answer.message).toMatch(/loop chamber setpoint 500/);
  });
});
