import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  commandCheck,
  type HealthCheck,
  HealthMonitor,
  pointsGoodCheck,
  predicateCheck,
  tcpReachableCheck,
} from '../../../agent/ota/health.js';
import { FakeClock } from '../../support/fake-clock.js';

const signal = new AbortController().signal;

describe('health checks for a trial boot', () => {
  it('passes as soon as every check passes at once, polling until then', async () => {
    const clock = new FakeClock();
    let quality = 'stale';
    const monitor = new HealthMonitor({
      clock,
      checks: [pointsGoodCheck(['chamber.temp'], () => quality), predicateCheck('loops', () => true)],
      deadlineMs: 10_000,
      pollMs: 500,
    });
    const verdict = monitor.run(signal);
    await clock.advance(1500);
    quality = 'good';
    expect(await clock.settle(verdict, 2000, 100)).toEqual({ ok: true, checks: ['points', 'loops'] });
  });

  it('with a soak, commits only after the checks kept passing that long; a failure starts it again', async () => {
    const clock = new FakeClock();
    let good = true;
    const monitor = new HealthMonitor({
      clock,
      checks: [predicateCheck('loops', () => good || 'stopped')],
      deadlineMs: 60_000,
      pollMs: 1000,
      soakMs: 10_000,
    });
    let verdict: unknown;
    void monitor.run(signal).then((v) => {
      verdict = v;
    });
    await clock.advance(5000);
    good = false; // a hiccup during the soak: the 10 s start again from the next good poll
    await clock.advance(1000);
    good = true;
    await clock.advance(9000);
    expect(verdict).toBeUndefined();
    await clock.advance(2000);
    expect(verdict).toEqual({ ok: true, checks: ['loops'] });

    const short = new HealthMonitor({ clock, checks: [], deadlineMs: 5000, pollMs: 1000, soakMs: 4999 });
    expect(await clock.settle(short.run(signal), 10_000, 500)).toEqual({ ok: true, checks: [] });
  });

  it('fails at the deadline naming every check still failing', async () => {
    const clock = new FakeClock();
    const monitor = new HealthMonitor({
      clock,
      checks: [
        pointsGoodCheck(['chamber.temp', 'air.pm2_5'], (n) => (n === 'air.pm2_5' ? 'fault' : undefined)),
        predicateCheck('loops', () => 'not yet running: chamber'),
        { name: 'broken', check: async () => Promise.reject(new Error('boom')) } satisfies HealthCheck,
      ],
      deadlineMs: 3000,
      pollMs: 1000,
    });
    expect(await clock.settle(monitor.run(signal), 5000, 100)).toEqual({
      ok: false,
      failed: [
        { name: 'points', detail: 'chamber.temp is missing, air.pm2_5 is fault' },
        { name: 'loops', detail: 'not yet running: chamber' },
        { name: 'broken', detail: 'boom' },
      ],
    });
  });

  it('lets a technician decision override the checks', async () => {
    const clock = new FakeClock();
    const monitor = new HealthMonitor({
      clock,
      checks: [predicateCheck('never', () => false)],
      deadlineMs: 60_000,
    });
    let decided: { ok: true; checks: string[] } | undefined;
    const verdict = monitor.run(signal, () => decided);
    await clock.advance(2000);
    decided = { ok: true, checks: ['manual-commit'] };
    expect(await clock.settle(verdict, 2000, 100)).toEqual({ ok: true, checks: ['manual-commit'] });
  });

  it('reaches a TCP server, and says why not when it cannot', async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    expect(await tcpReachableCheck({ host: '127.0.0.1', port }).check(signal)).toEqual({ ok: true });
    server.close();
    expect(await tcpReachableCheck({ host: '127.0.0.1', port: 1 }).check(signal)).toMatchObject({
      ok: false,
      detail: expect.stringContaining('127.0.0.1:1'),
    });
  });

  it('runs a board script: healthy when it exits 0, else its last line', async () => {
    expect(await commandCheck(['sh', '-c', 'exit 0'], process.env).check(signal)).toEqual({ ok: true });
    expect(
      await commandCheck(['sh', '-c', 'echo "disk full" >&2; exit 3'], process.env).check(signal),
    ).toEqual({
      ok: false,
      detail: 'sh -c echo "disk full" >&2; exit 3 exited with 3: disk full',
    });
  });
});
