/**
 * The systemd watchdog keep-alive on a fake clock, with a recording sender: pings at half of
 * WATCHDOG_USEC while the control scheduler ticks and the event loop keeps up, none while either is
 * stalled, and again once they recover.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../../agent/control/scheduler.js';
import { silentLogger } from '../../../agent/core/log.js';
import { EventLoopProbe, SchedulerProbe } from '../../../agent/service/health-probes.js';
import { type NotifySender, SystemdNotifier } from '../../../agent/service/notify.js';
import { ServiceWatchdog } from '../../../agent/service/watchdog.js';
import { FakeClock } from '../../support/fake-clock.js';

class RecordingSender implements NotifySender {
  readonly sent: { atMs: number; lines: readonly string[] }[] = [];
  constructor(readonly clock: FakeClock) {}
  async send(lines: readonly string[]): Promise<void> {
    this.sent.push({ atMs: this.clock.monotonicMs(), lines });
  }
  pingTimes(): number[] {
    return this.sent.filter((s) => s.lines.includes('WATCHDOG=1')).map((s) => s.atMs);
  }
}

function setUp() {
  const clock = new FakeClock({ monoMs: 0 });
  const log = silentLogger();
  const sender = new RecordingSender(clock);
  const notifier = SystemdNotifier.fromEnv(
    { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '4242' },
    { log, sender, pid: 4242 },
  );
  let hang: Promise<void> | undefined;
  const scheduler = new Scheduler({ clock, log });
  scheduler.add({ name: 'loop.chamber', periodMs: 100, run: () => hang });
  const eventLoop = new EventLoopProbe(clock, { sampleMs: 100, maxLagMs: 500 });
  const watchdog = new ServiceWatchdog(
    {
      clock,
      log,
      notifier,
      probes: [eventLoop, new SchedulerProbe(clock, () => scheduler.stats(), { graceMs: 1000 })],
    },
    { intervalMs: notifier.watchdogIntervalMs! },
  );
  return {
    clock,
    sender,
    notifier,
    scheduler,
    eventLoop,
    watchdog,
    stall: () => {
      hang = new Promise(() => undefined);
    },
  };
}

describe('ServiceWatchdog', () => {
  it('reads WATCHDOG_USEC and pings at half of it', async () => {
    const { clock, sender, notifier, scheduler, eventLoop, watchdog } = setUp();
    expect(notifier.watchdogIntervalMs).toBe(1000);
    scheduler.start();
    eventLoop.start();
    watchdog.start();
    await clock.run(5000, 50);
    expect(sender.pingTimes()).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
  });

  it('ignores a watchdog meant for another process', () => {
    const notifier = SystemdNotifier.fromEnv(
      { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' },
      { log: silentLogger(), sender: { send: async () => undefined }, pid: 4242 },
    );
    expect(notifier.enabled).toBe(true);
    expect(notifier.watchdogIntervalMs).toBeUndefined();
    expect(SystemdNotifier.fromEnv({}, { log: silentLogger() }).enabled).toBe(false);
  });

  it('stops pinging while the control scheduler is stalled, says why in STATUS, and resumes', async () => {
    const { clock, sender, scheduler, eventLoop, watchdog, stall } = setUp();
    scheduler.start();
    eventLoop.start();
    watchdog.start();
    await clock.run(2000, 50);
    stall();
    await clock.run(4000, 50);
    const pings = sender.pingTimes();
    // The tick at 2100 hangs. The probe notices a silence at its checks and allows max(3 periods,
    // 1 s of grace): silent since the check at 3000, so 4000 still pings and 5000 does not.
    expect(pings).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(sender.sent.flatMap((s) => s.lines)).toContainEqual(
      expect.stringMatching(/^STATUS=unhealthy: control scheduler: no tick from loop\.chamber/),
    );
    expect(watchdog.unhealthy).toMatch(/no tick from loop\.chamber/);
  });

  it('stops pinging when the scheduler is stopped', async () => {
    const { clock, sender, scheduler, eventLoop, watchdog } = setUp();
    scheduler.start();
    eventLoop.start();
    watchdog.start();
    await clock.run(1000, 50);
    await scheduler.stop();
    await clock.run(5000, 50);
    expect(Math.max(...sender.pingTimes())).toBeLessThanOrEqual(3000);
  });

  it('withholds one ping after the event loop was blocked, then resumes', async () => {
    const { clock, sender, scheduler, eventLoop, watchdog } = setUp();
    scheduler.start();
    eventLoop.start();
    watchdog.start();
    await clock.run(1500, 50);
    clock.jump(800); // a synchronous 800 ms block
    await clock.run(2700, 50);
    const pings = sender.pingTimes();
    expect(pings.slice(0, 2)).toEqual([0, 1000]);
    // The check due at 2000 ran at 2300 and saw the block; pinging resumed at the next one.
    expect(pings).toEqual([0, 1000, 3000, 4000, 5000]);
    expect(sender.sent.flatMap((s) => s.lines)).toContainEqual(
      expect.stringMatching(/^STATUS=unhealthy: event loop: blocked for 700 ms/),
    );
    expect(sender.sent.flatMap((s) => s.lines)).toContain('STATUS=running');
  });

  it('sends READY, STATUS and STOPPING as single-line assignments, in order', async () => {
    const { notifier, sender } = setUp();
    void notifier.ready('running: 3 devices');
    void notifier.status('two\nlines');
    await notifier.stopping('stopping (SIGTERM)');
    expect(sender.sent.map((s) => s.lines)).toEqual([
      ['READY=1', 'STATUS=running: 3 devices'],
      ['STATUS=two lines'],
      ['STOPPING=1', 'STATUS=stopping (SIGTERM)'],
    ]);
  });
});
