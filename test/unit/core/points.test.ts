import { describe, expect, it } from 'vitest';
import { type PointSnapshot, PointTable } from '../../../agent/core/points.js';
import { FakeClock } from '../../support/fake-clock.js';

function table() {
  const clock = new FakeClock({ wallMs: Date.UTC(2026, 5, 1), monoMs: 5_000 });
  const errors: unknown[] = [];
  const points = new PointTable({ clock, onListenerError: (e) => errors.push(e) });
  return { clock, points, errors };
}

describe('PointTable', () => {
  it('starts a declared point stale with no value', () => {
    const { points } = table();
    points.declare({ name: 'chamber.temp', unit: 'Cel' });
    expect(points.get('chamber.temp')).toMatchObject({ value: undefined, quality: 'stale', unit: 'Cel' });
    expect(points.goodValue('chamber.temp')).toBeUndefined();
  });

  it('stamps an update with wall and monotonic time and the source', () => {
    const { points, clock } = table();
    points.declare({ name: 'chamber.temp', unit: 'Cel' });
    points.update('chamber.temp', 21.5, 'chamber');
    expect(points.get('chamber.temp')).toMatchObject({
      value: 21.5,
      quality: 'good',
      wallMs: clock.nowMs(),
      monoMs: clock.monotonicMs(),
      source: 'chamber',
    });
  });

  it('rejects unknown points, duplicate declarations, bad names and non-finite values', () => {
    const { points } = table();
    points.declare({ name: 'a.b' });
    expect(() => points.update('nope', 1, 't')).toThrow(/unknown point nope/);
    expect(() => points.declare({ name: 'a.b' })).toThrow(/declared twice/);
    expect(() => points.declare({ name: 'bad name' })).toThrow(TypeError);
    expect(() => points.update('a.b', Number.NaN, 't')).toThrow(/finite/);
  });

  it('tells subscribers of one point and of all points, with the previous snapshot', () => {
    const { points } = table();
    points.declare({ name: 'x' });
    points.declare({ name: 'y' });
    const one: [PointSnapshot, PointSnapshot][] = [];
    const all: string[] = [];
    const off = points.subscribe('x', (p, prev) => one.push([p, prev]));
    points.subscribe('*', (p) => all.push(p.name));
    points.update('x', 1, 't');
    points.update('y', 2, 't');
    off();
    points.update('x', 3, 't');
    expect(one).toHaveLength(1);
    expect(one[0]?.[0].value).toBe(1);
    expect(one[0]?.[1].value).toBeUndefined();
    expect(all).toEqual(['x', 'y', 'x']);
  });

  it('keeps notifying others when a listener throws, and reports the error', () => {
    const { points, errors } = table();
    points.declare({ name: 'x' });
    const seen: number[] = [];
    points.subscribe('x', () => {
      throw new Error('observer bug');
    });
    points.subscribe('x', (p) => seen.push(p.value as number));
    points.update('x', 7, 't');
    expect(seen).toEqual([7]);
    expect(errors).toHaveLength(1);
  });

  it('marks a point stale after staleAfterMs without updates and good again on the next one', async () => {
    const { points, clock } = table();
    points.declare({ name: 'x', staleAfterMs: 3000 });
    points.update('x', 1, 't');
    await clock.advance(2999);
    points.sweepStale();
    expect(points.get('x')?.quality).toBe('good');
    await clock.advance(2);
    points.sweepStale();
    expect(points.get('x')).toMatchObject({ quality: 'stale', value: 1 });
    points.update('x', 2, 't');
    expect(points.get('x')?.quality).toBe('good');
  });

  it('applies a write through the handler before taking the value', async () => {
    const { points } = table();
    points.declare({ name: 'heater.state', writable: true });
    const applied: unknown[] = [];
    points.onWrite('heater.state', async (v) => {
      applied.push(v);
    });
    await points.write('heater.state', true, 'console:tech');
    expect(applied).toEqual([true]);
    expect(points.get('heater.state')).toMatchObject({ value: true, source: 'console:tech' });
  });

  it('keeps the old value when the device refuses a write', async () => {
    const { points } = table();
    points.declare({ name: 'heater.state', writable: true });
    points.update('heater.state', false, 'heater');
    points.onWrite('heater.state', async () => {
      throw new Error('device is not connected');
    });
    await expect(points.write('heater.state', true, 'loop')).rejects.toThrow(/not connected/);
    expect(points.get('heater.state')?.value).toBe(false);
  });

  it('refuses writes to read-only points', async () => {
    const { points } = table();
    points.declare({ name: 'chamber.temp' });
    await expect(points.write('chamber.temp', 1, 'x')).rejects.toMatchObject({ code: 'EREADONLY' });
  });
});

describe('PointTable forcing (interlocks)', () => {
  it('holds a forced value and refuses writes from anyone but the owner', async () => {
    const { points } = table();
    points.declare({ name: 'heater.state', writable: true });
    const applied: unknown[] = [];
    points.onWrite('heater.state', async (v) => {
      applied.push(v);
    });
    await points.write('heater.state', true, 'loop:chamber');
    await points.force('heater.state', false, 'rule:overtemp');
    expect(points.get('heater.state')).toMatchObject({ value: false, forcedBy: 'rule:overtemp' });
    await expect(points.write('heater.state', true, 'loop:chamber')).rejects.toMatchObject({
      code: 'EFORCED',
    });
    expect(applied).toEqual([true, false]);
    await points.release('heater.state', 'rule:overtemp');
    expect(points.get('heater.state')).toMatchObject({ value: false, forcedBy: undefined });
    await points.write('heater.state', true, 'loop:chamber');
    expect(applied).toEqual([true, false, true]);
  });

  it('lets the newest of several forces hold the point and falls back to the next on release', async () => {
    const { points } = table();
    points.declare({ name: 'valve', writable: true });
    await points.force('valve', 10, 'a');
    await points.force('valve', 20, 'b');
    expect(points.get('valve')).toMatchObject({ value: 20, forcedBy: 'b' });
    await points.release('valve', 'b');
    expect(points.get('valve')).toMatchObject({ value: 10, forcedBy: 'a' });
    await points.release('valve', 'a');
    expect(points.get('valve')?.forcedBy).toBeUndefined();
  });
});
