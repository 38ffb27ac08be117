/**
 * The systemd notification protocol for real: `systemd-notify` (with its barrier) sending to a fake
 * `$NOTIFY_SOCKET`, from the notifier alone and driven by the watchdog over a real scheduler on the
 * system clock — keep-alives at half WATCHDOG_USEC, none once the scheduler stalls.
 */
import { afterEach, expect, it } from 'vitest';
import { Scheduler } from '../../../agent/control/scheduler.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { EventLoopProbe, SchedulerProbe } from '../../../agent/service/health-probes.js';
import { SystemdNotifier } from '../../../agent/service/notify.js';
import { ServiceWatchdog } from '../../../agent/service/watchdog.js';
import { NotifyListener } from '../../support/notify-listener.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-notify-');
let listener: NotifyListener | undefined;
const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await listener?.close();
  listener = undefined;
});

describeWithTools(['python3', 'systemd-notify'], 'systemd notifications through systemd-notify', () => {
  it('delivers READY, STATUS, WATCHDOG and STOPPING datagrams in order', async () => {
    listener = await NotifyListener.open(await tempDir());
    const notifier = SystemdNotifier.fromEnv(
      { ...process.env, NOTIFY_SOCKET: listener.socketPath },
      {
        log: silentLogger(),
      },
    );
    expect(notifier.enabled).toBe(true);
    const started = Date.now();
    void notifier.ready('running: 7 devices');
    void notifier.watchdog();
    await notifier.stopping('stopping (SIGTERM)');
    // The barrier was honoured: each send returned as soon as the listener had the message.
    expect(Date.now() - started).toBeLessThan(2000);
    await listener.waitFor((n) => n.lines.includes('STOPPING=1'));
    expect(listener.received.map((n) => n.lines)).toEqual([
      ['READY=1', 'STATUS=running: 7 devices'],
      ['WATCHDOG=1'],
      ['STOPPING=1', 'STATUS=stopping (SIGTERM)'],
    ]);
  });

  it('keeps the watchdog fed while the scheduler ticks, and stops feeding it when it stalls', async () => {
    listener = await NotifyListener.open(await tempDir());
    const clock = new SystemClock();
    const log = silentLogger();
    const notifier = SystemdNotifier.fromEnv(
      { ...process.env, NOTIFY_SOCKET: listener.socketPath, WATCHDOG_USEC: '400000' },
      { log },
    );
    let stalled = false;
    const scheduler = new Scheduler({ clock, log });
    scheduler.add({
      name: 'loop.test',
      periodMs: 20,
      run: () => (stalled ? new Promise(() => undefined) : undefined),
    });
    const eventLoop = new EventLoopProbe(clock);
    const probes = [eventLoop, new SchedulerProbe(clock, () => scheduler.stats(), { graceMs: 300 })];
    const watchdog = new ServiceWatchdog(
      { clock, log, notifier, probes },
      { intervalMs: notifier.watchdogIntervalMs! },
    );
    scheduler.start();
    eventLoop.start();
    watchdog.start();
    stops.push(
      () => watchdog.stop(),
      () => eventLoop.stop(),
      () => scheduler.stop(),
    );

    const watchdogPings = () => listener!.received.filter((n) => n.lines.includes('WATCHDOG=1'));
    await until(() => watchdogPings().length >= 4, 'four watchdog pings', 10_000);
    const pings = watchdogPings();
    // Timers fire late on a loaded machine, never early: only the lower bound is exact. The upper
    // one only says the pings are periodic (the interval logic has FakeClock unit tests).
    const gaps = pings.slice(1).map((p, i) => p.t - pings[i]!.t);
    for (const gap of gaps) expect(gap).toBeGreaterThan(100);
    for (const gap of gaps) expect(gap).toBeLessThan(2000);

    stalled = true;
    await listener.waitFor(
      (n) => n.lines.some((l) => l.startsWith('STATUS=unhealthy')),
      3000,
      'unhealthy status',
    );
    const countAtStall = listener.received.filter((n) => n.lines.includes('WATCHDOG=1')).length;
    await new Promise((r) => setTimeout(r, 800));
    expect(listener.received.filter((n) => n.lines.includes('WATCHDOG=1')).length).toBe(countAtStall);
    expect(listener.assignments).toContainEqual(
      expect.stringMatching(/^STATUS=unhealthy: control scheduler: no tick from loop\.test/),
    );
  });
});
