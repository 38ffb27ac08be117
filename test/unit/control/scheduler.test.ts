import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../../agent/control/scheduler.js';
import type { Clock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { PointTable } from '../../../agent/core/points.js';
import { FakeClock } from '../../support/fake-clock.js';

function setup() {
  const clock = new FakeClock({ monoMs: 0 });
  const points = new PointTable({ clock });
  const scheduler = new Scheduler({ clock, points, log: silentLogger() });
  return { clock, points, scheduler };
}

describe('Scheduler', () => {
  it('runs a task on absolute deadlines: tick k at start + k·period, with no drift', async () => {
    const { clock, scheduler } = setup();
    const deadlines: number[] = [];
    scheduler.add({ name: 'pid', periodMs: 100, run: (d) => void deadlines.push(d) });
    scheduler.start();
    await clock.advance(1000);
    expect(deadlines).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    await scheduler.stop();
  });

  it('counts an overrun and skips the tick while the previous one is still running', async () => {
    const { clock, scheduler, points } = setup();
    let release: () => void = () => undefined;
    let runs = 0;
    scheduler.add({
      name: 'slow',
      periodMs: 100,
      run: () => {
        runs++;
        return new Promise<void>((r) => {
          release = r;
        });
      },
    });
    scheduler.start();
    await clock.advance(250); // ticks due at 0, 100, 200: the first still runs
    expect(runs).toBe(1);
    expect(points.get('control.slow.overruns')?.value).toBe(2);
    release();
    await clock.advance(100);
    expect(runs).toBe(2);
    await scheduler.stop();
  });

  it('skips and counts whole periods missed by a blocked event loop instead of bursting', async () => {
    const { clock, scheduler, points } = setup();
    const deadlines: number[] = [];
    scheduler.add({ name: 'fast', periodMs: 10, run: (d) => void deadlines.push(d) });
    scheduler.start();
    await clock.advance(0);
    clock.jump(55); // the event loop is blocked from 0 to 55 ms
    await clock.advance(0);
    expect(points.get('control.fast.missed')?.value).toBe(4); // 10…40 never ran
    expect(deadlines).toEqual([0, 50]); // one late tick for the 50 ms slot, no burst
    await clock.advance(5);
    expect(deadlines).toEqual([0, 50, 60]);
    await scheduler.stop();
  });

  it('reports lateness above the threshold as a late tick', async () => {
    const { clock, scheduler, points } = setup();
    scheduler.add({ name: 'pid', periodMs: 100, run: () => undefined });
    scheduler.start();
    await clock.advance(99);
    clock.jump(4); // the tick due at 100 runs at 103
    await clock.advance(0);
    const stats = scheduler.stats()[0];
    expect(stats).toMatchObject({ late: 1, ticks: 2 });
    expect(stats?.maxLatenessMs).toBeCloseTo(3, 6);
    expect(points.get('control.pid.late')?.value).toBe(1);
    await scheduler.stop();
  });

  it('never runs a tick before its deadline when the timer fires early (ms granularity)', async () => {
    const clock = new FakeClock({ monoMs: 0 });
    const early: Clock = {
      nowMs: () => clock.nowMs(),
      monotonicMs: () => clock.monotonicMs(),
      setTimeout: (fn, delayMs) => clock.setTimeout(fn, delayMs >= 1 ? delayMs - 0.5 : delayMs),
      setInterval: (fn, periodMs) => clock.setInterval(fn, periodMs),
      sleep: (ms, signal) => clock.sleep(ms, signal),
    };
    const scheduler = new Scheduler({ clock: early, log: silentLogger() });
    const lateness: number[] = [];
    scheduler.add({ name: 't', periodMs: 10, run: (d) => void lateness.push(clock.monotonicMs() - d) });
    scheduler.start();
    await clock.advance(100);
    expect(lateness.length).toBeGreaterThanOrEqual(10);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lateness)).toBeLessThan(1);
    await scheduler.stop();
  });

  it('keeps running after a tick throws and counts the error', async () => {
    const { clock, scheduler } = setup();
    let n = 0;
    scheduler.add({
      name: 'flaky',
      periodMs: 100,
      run: () => {
        n++;
        if (n === 2) throw new Error('boom');
      },
    });
    scheduler.start();
    await clock.advance(400);
    expect(n).toBe(5);
    expect(scheduler.stats()[0]?.errors).toBe(1);
    await scheduler.stop();
  });

  it('rejects a non-positive period and duplicate names', () => {
    const { scheduler } = setup();
    expect(() => scheduler.add({ name: 'x', periodMs: 0, run: () => undefined })).toThrow(TypeError);
    scheduler.add({ name: 'x', periodMs: 10, run: () => undefined });
    expect(() => scheduler.add({ name: 'x', periodMs: 10, run: () => undefined })).toThrow(/already/);
  });

  it('stops firing after stop()', async () => {
    const { clock, scheduler } = setup();
    let n = 0;
    scheduler.add({ name: 't', periodMs: 10, run: () => void n++ });
    scheduler.start();
    await clock.advance(25);
    await scheduler.stop();
    await clock.advance(100);
    expect(n).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });
});
