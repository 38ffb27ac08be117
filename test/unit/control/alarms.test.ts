import { describe, expect, it } from 'vitest';
import { type AckResult, type AlarmEvent, AlarmManager } from '../../../agent/control/alarms.js';
import type { AlarmRaise, AlarmState } from '../../../agent/control/types.js';
import { FakeClock } from '../../support/fake-clock.js';

const OVERTEMP: AlarmRaise = {
  id: 'overtemp',
  severity: 'critical',
  message: 'chamber above 80 °C',
  source: 'rule:overtemp',
};

function setup() {
  const clock = new FakeClock({ wallMs: Date.UTC(2026, 5, 1), monoMs: 5_000 });
  const listenerErrors: unknown[] = [];
  const alarms = new AlarmManager({ clock, onListenerError: (e) => listenerErrors.push(e) });
  const events: AlarmEvent[] = [];
  alarms.on('alarm', (e) => events.push(e));
  return { clock, alarms, events, listenerErrors };
}

type Op = 'raise' | 'clear' | 'ack';

/** Brings `overtemp` into `state` through the public API. */
function reach(alarms: AlarmManager, state: AlarmState): void {
  if (state === 'normal') return;
  alarms.raise(OVERTEMP);
  if (state === 'active-acked') alarms.acknowledge('overtemp', 'console:ana');
  if (state === 'cleared-unacked') alarms.clear('overtemp', 'rule:overtemp');
}

function apply(alarms: AlarmManager, op: Op): AckResult | undefined {
  if (op === 'raise') alarms.raise(OVERTEMP);
  else if (op === 'clear') alarms.clear('overtemp', 'rule:overtemp');
  else return alarms.acknowledge('overtemp', 'console:ben');
  return undefined;
}

describe('AlarmManager', () => {
  // ISA-18.2: every (state, operation) pair, with the state it leads to and whether that is news.
  const transitions: [AlarmState, Op, AlarmState, boolean, AckResult | undefined][] = [
    ['normal', 'raise', 'active-unacked', true, undefined],
    ['normal', 'clear', 'normal', false, undefined],
    ['normal', 'ack', 'normal', false, { ok: false, reason: 'unknown-alarm' }],
    ['active-unacked', 'raise', 'active-unacked', false, undefined],
    ['active-unacked', 'clear', 'cleared-unacked', true, undefined],
    ['active-unacked', 'ack', 'active-acked', true, { ok: true, state: 'active-acked' }],
    ['active-acked', 'raise', 'active-acked', false, undefined],
    ['active-acked', 'clear', 'normal', true, undefined],
    ['active-acked', 'ack', 'active-acked', false, { ok: false, reason: 'already-acked' }],
    ['cleared-unacked', 'raise', 'active-unacked', true, undefined],
    ['cleared-unacked', 'clear', 'cleared-unacked', false, undefined],
    ['cleared-unacked', 'ack', 'normal', true, { ok: true, state: 'normal' }],
  ];

  it.each(transitions)('from %s, %s leads to %s (event: %s)', (from, op, to, emits, ack) => {
    const { alarms, events } = setup();
    reach(alarms, from);
    events.length = 0;
    expect(apply(alarms, op)).toEqual(ack);
    expect(alarms.state('overtemp')).toBe(to);
    expect(events.map((e) => [e.previousState, e.state])).toEqual(emits ? [[from, to]] : []);
    expect(alarms.list().map((a) => a.state)).toEqual(to === 'normal' ? [] : [to]);
  });

  it('describes each change in the event: severity, message, who caused it and when', async () => {
    const { alarms, events, clock } = setup();
    alarms.raise(OVERTEMP);
    await clock.advance(1_500);
    alarms.acknowledge('overtemp', 'console:ana');
    await clock.advance(500);
    alarms.clear('overtemp', 'rule:overtemp');
    const wall0 = Date.UTC(2026, 5, 1);
    expect(events).toEqual([
      {
        id: 'overtemp',
        state: 'active-unacked',
        previousState: 'normal',
        severity: 'critical',
        message: 'chamber above 80 °C',
        source: 'rule:overtemp',
        wallMs: wall0,
      },
      {
        id: 'overtemp',
        state: 'active-acked',
        previousState: 'active-unacked',
        severity: 'critical',
        message: 'chamber above 80 °C',
        source: 'console:ana',
        wallMs: wall0 + 1_500,
      },
      {
        id: 'overtemp',
        state: 'normal',
        previousState: 'active-acked',
        severity: 'critical',
        message: 'chamber above 80 °C',
        source: 'rule:overtemp',
        wallMs: wall0 + 2_000,
      },
    ]);
  });

  it('lists an alarm with when it was raised, who acknowledged it and when', async () => {
    const { alarms, clock } = setup();
    alarms.raise(OVERTEMP);
    await clock.advance(2_000);
    alarms.acknowledge('overtemp', 'console:ana');
    expect(alarms.list()).toEqual([
      {
        id: 'overtemp',
        state: 'active-acked',
        severity: 'critical',
        message: 'chamber above 80 °C',
        source: 'rule:overtemp',
        raisedAtWallMs: Date.UTC(2026, 5, 1),
        raisedAtMonoMs: 5_000,
        clearedAtWallMs: undefined,
        ackedBy: 'console:ana',
        ackedAtWallMs: Date.UTC(2026, 5, 1) + 2_000,
        raiseCount: 1,
      },
    ]);
  });

  it('counts a chattering alarm’s re-raises and asks for a fresh acknowledgement of each', async () => {
    const { alarms, clock } = setup();
    alarms.raise(OVERTEMP);
    alarms.raise(OVERTEMP); // the same occurrence: not counted
    alarms.clear('overtemp', 'rule:overtemp');
    await clock.advance(1_000);
    alarms.raise(OVERTEMP);
    alarms.clear('overtemp', 'rule:overtemp');
    await clock.advance(1_000);
    alarms.raise(OVERTEMP);
    expect(alarms.list()).toMatchObject([
      {
        state: 'active-unacked',
        raiseCount: 3,
        raisedAtMonoMs: 5_000, // the occurrence started with the first raise
        clearedAtWallMs: undefined,
      },
    ]);
    alarms.acknowledge('overtemp', 'console:ana');
    alarms.clear('overtemp', 'rule:overtemp');
    alarms.raise(OVERTEMP);
    expect(alarms.list()).toMatchObject([{ state: 'active-unacked', raiseCount: 1, ackedBy: undefined }]);
  });

  it('reports an escalation of an active alarm once, without changing its state', () => {
    const { alarms, events } = setup();
    alarms.raise({ ...OVERTEMP, severity: 'major' });
    alarms.acknowledge('overtemp', 'console:ana');
    events.length = 0;
    alarms.raise(OVERTEMP);
    alarms.raise(OVERTEMP);
    expect(events).toMatchObject([
      { state: 'active-acked', previousState: 'active-acked', severity: 'critical' },
    ]);
    expect(alarms.list()).toMatchObject([{ severity: 'critical', raiseCount: 1 }]);
  });

  it('lists the most severe first, then the oldest', async () => {
    const { alarms, clock } = setup();
    alarms.raise({ ...OVERTEMP, id: 'door', severity: 'warning' });
    await clock.advance(10);
    alarms.raise({ ...OVERTEMP, id: 'humidity', severity: 'major' });
    await clock.advance(10);
    alarms.raise({ ...OVERTEMP, id: 'overtemp' });
    await clock.advance(10);
    alarms.raise({ ...OVERTEMP, id: 'fan', severity: 'major' });
    expect(alarms.list().map((a) => a.id)).toEqual(['overtemp', 'humidity', 'fan', 'door']);
  });

  it('keeps the state change and the other listeners when one listener throws', () => {
    const { alarms, events, listenerErrors } = setup();
    const boom = new Error('listener failed');
    alarms.prependListener('alarm', () => {
      throw boom;
    });
    alarms.raise(OVERTEMP);
    expect(alarms.state('overtemp')).toBe('active-unacked');
    expect(events).toHaveLength(1);
    expect(listenerErrors).toEqual([boom]);
  });

  it('removes a once listener after its first event', () => {
    const { alarms } = setup();
    const seen: string[] = [];
    alarms.once('alarm', (e) => seen.push(e.state));
    alarms.raise(OVERTEMP);
    alarms.clear('overtemp', 'rule:overtemp');
    expect(seen).toEqual(['active-unacked']);
    expect(alarms.listenerCount('alarm')).toBe(1);
  });
});
