import { describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../../../../agent/hal/device.js';
import { digitalInputDriver } from '../../../../../agent/hal/drivers/digital-input/driver.js';
import type { GpioLevel } from '../../../../../agent/hal/gpio/types.js';
import { gpioDriverHarness } from '../../../../support/gpio-driver-harness.js';

const LINE = { chip: 'pinctrl-bcm2711', offset: 27 };

function door(options: Record<string, unknown> = {}) {
  const h = gpioDriverHarness();
  const device = digitalInputDriver.create(
    digitalInputDriver.options.parse({ line: LINE, ...options }),
    h.buses,
  );
  return { ...h, device, line: h.sim.line(LINE) };
}

/** A drive of the line, then how long it is held before the next step. */
type Step = readonly [level: GpioLevel, holdMs: number];

describe('digital input options', () => {
  it('debounces 20 ms by default and leaves the pull to the firmware', () => {
    expect(digitalInputDriver.options.parse({ line: LINE })).toEqual({
      line: LINE,
      activeLow: false,
      debounceMs: 20,
    });
  });

  it('rejects an unknown pull', () => {
    expect(digitalInputDriver.options.safeParse({ line: LINE, pull: 'sideways' }).success).toBe(false);
  });
});

describe('digital input', () => {
  it('publishes the level read at open', async () => {
    const { device, ctx, line } = door();
    line.drive(1);
    await device.open(ctx);
    expect(ctx.values('state')).toEqual([true]);
  });

  it('inverts with activeLow: a contact that pulls the line low reads true when closed', async () => {
    const { device, ctx, line, clock } = door({ activeLow: true, pull: 'up' });
    await device.open(ctx);
    line.drive(0); // contact closes
    await clock.advance(50);
    expect(ctx.values('state')).toEqual([false, true]);
  });

  it('asks for the configured pull, so an open contact reads the pulled level', async () => {
    const { device, ctx, line } = door({ pull: 'up' });
    await device.open(ctx);
    expect(line.bias).toBe('pull-up');
    expect(ctx.values('state')).toEqual([true]);
  });

  // From a settled 0 with debounceMs = 20; `expected` lists the states published after the initial one.
  it.each<[string, readonly Step[], boolean[]]>([
    ['a clean change held past debounceMs is reported once', [[1, 100]], [true]],
    [
      'a 5 ms glitch that returns to the settled level is ignored',
      [
        [1, 5],
        [0, 100],
      ],
      [],
    ],
    [
      'a change held 19 ms (just under debounceMs) is ignored',
      [
        [1, 19],
        [0, 100],
      ],
      [],
    ],
    [
      'a change held exactly debounceMs is reported, and so is the return',
      [
        [1, 20],
        [0, 100],
      ],
      [true, false],
    ],
    [
      'a bouncing close (1,0,1,0,1 every 4 ms) is reported once',
      [
        [1, 4],
        [0, 4],
        [1, 4],
        [0, 4],
        [1, 100],
      ],
      [true],
    ],
    [
      'a bouncing close then a bouncing open give one report each',
      [
        [1, 3],
        [0, 3],
        [1, 60],
        [0, 3],
        [1, 3],
        [0, 60],
      ],
      [true, false],
    ],
    [
      'bounces that keep resetting the timer delay, but do not lose, the report',
      [
        [1, 15],
        [0, 15],
        [1, 15],
        [0, 15],
        [1, 40],
      ],
      [true],
    ],
  ])('%s', async (_name, steps, expected) => {
    const { device, ctx, line, clock } = door();
    await device.open(ctx);
    for (const [level, holdMs] of steps) {
      line.drive(level);
      await clock.advance(holdMs);
    }
    expect(ctx.values('state')).toEqual([false, ...expected]);
  });

  it('reports a change debounceMs after the last bounce, not before', async () => {
    const { device, ctx, line, clock } = door();
    await device.open(ctx);
    line.drive(1);
    await clock.advance(19);
    expect(ctx.published).toHaveLength(1);
    await clock.advance(1);
    expect(ctx.published.at(-1)).toEqual({ channel: 'state', value: true, monoMs: 1020 });
  });

  it('reports every transition when debounceMs is 0', async () => {
    const { device, ctx, line, clock } = door({ debounceMs: 0 });
    await device.open(ctx);
    for (const level of [1, 0, 1] as const) {
      line.drive(level);
      await clock.advance(1);
    }
    expect(ctx.values('state')).toEqual([false, true, false, true]);
  });

  it('stops publishing once closed, and leaves no watcher behind', async () => {
    const { device, ctx, line, clock } = door();
    await device.open(ctx);
    line.drive(1);
    await clock.advance(5);
    await device.close();
    await clock.advance(100);
    line.drive(0);
    await clock.advance(100);
    expect(ctx.values('state')).toEqual([false]);
    expect(line.watcherCount).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports a line the board does not have as an absent device', async () => {
    const h = gpioDriverHarness();
    const options = digitalInputDriver.options.parse({ line: { chip: 'pinctrl-bcm2711', offset: 58 } });
    const error = await digitalInputDriver
      .create(options, h.buses)
      .open(h.ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceAbsentError);
    expect((error as Error).message).toContain('58 lines');
  });
});
