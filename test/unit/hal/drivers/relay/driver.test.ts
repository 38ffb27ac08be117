import { describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../../../../agent/hal/device.js';
import {
  type RelayOptions,
  RelaySwitchTooSoonError,
  relayDriver,
} from '../../../../../agent/hal/drivers/relay/driver.js';
import { GpioError } from '../../../../../agent/hal/gpio/errors.js';
import { gpioDriverHarness } from '../../../../support/gpio-driver-harness.js';

const LINE = { chip: 'pinctrl-bcm2711', offset: 17 };

function relay(options: Record<string, unknown> = {}) {
  const h = gpioDriverHarness();
  const device = relayDriver.create(relayDriver.options.parse({ line: LINE, ...options }), h.buses);
  return { ...h, device, line: h.sim.line(LINE) };
}

describe('relay options', () => {
  it('defaults to an active-high relay that is safe when off, with no switch interval', () => {
    expect(relayDriver.options.parse({ line: LINE })).toEqual({
      line: LINE,
      activeLow: false,
      safeState: 'off',
      startState: 'safe',
      minSwitchIntervalMs: 0,
    } satisfies RelayOptions);
  });

  it.each([
    ['an unknown option', { line: LINE, inverted: true }],
    ['a line without offset', { line: { chip: 'pinctrl-bcm2711' } }],
    ['a safe state that is not on/off', { line: LINE, safeState: 'closed' }],
  ])('rejects %s', (_name, options) => {
    expect(relayDriver.options.safeParse(options).success).toBe(false);
  });
});

describe('relay', () => {
  it('opens the output already at the safe state, so the load never flicks on, and publishes it', async () => {
    const { device, ctx, line } = relay();
    await device.open(ctx);
    expect(line.writes.map((w) => w.level)).toEqual([0]);
    expect(ctx.values('state')).toEqual([false]);
  });

  it('switches on after opening at the safe state when startState is on (a fan that runs with the agent)', async () => {
    const { device, ctx, line } = relay({ startState: 'on' });
    await device.open(ctx);
    expect(line.writes.map((w) => w.level)).toEqual([0, 1]);
    expect(ctx.values('state')).toEqual([true]);
    await device.safeState?.();
    expect(line.value).toBe(0);
  });

  it('drives a low-triggered board with the inverse level, safe state on included', async () => {
    const { device, ctx, line } = relay({ activeLow: true, safeState: 'on' });
    await device.open(ctx);
    expect(line.value).toBe(0);
    expect(ctx.values('state')).toEqual([true]);
    await device.write?.('state', false);
    expect(line.value).toBe(1);
  });

  it('switches the line on a write of true/false', async () => {
    const { device, ctx, line } = relay();
    await device.open(ctx);
    await device.write?.('state', true);
    expect(line.value).toBe(1);
    await device.write?.('state', false);
    expect(line.value).toBe(0);
  });

  it('restores the safe state on safeState()', async () => {
    const { device, ctx, line } = relay();
    await device.open(ctx);
    await device.write?.('state', true);
    await device.safeState?.();
    expect(line.value).toBe(0);
    expect(line.writes.map((w) => w.level)).toEqual([0, 1, 0]);
  });

  it('refuses values that are not booleans and channels it does not have', async () => {
    const { device, ctx } = relay();
    await device.open(ctx);
    await expect(device.write?.('state', 1)).rejects.toThrow(TypeError);
    await expect(device.write?.('state', 'on')).rejects.toThrow(TypeError);
    await expect(device.write?.('duty', true)).rejects.toThrow(TypeError);
  });

  it('rejects a write that does not reach the line', async () => {
    const { device, ctx, sim } = relay();
    await device.open(ctx);
    await sim.close(); // the bus went away under the driver
    await expect(device.write?.('state', true)).rejects.toBeInstanceOf(GpioError);
  });

  it('reports a line the board does not have as an absent device', async () => {
    const h = gpioDriverHarness();
    const device = relayDriver.create(
      relayDriver.options.parse({ line: { chip: 'pinctrl-rp1', offset: 17 } }),
      h.buses,
    );
    const error = await device.open(h.ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceAbsentError);
    expect((error as Error).cause).toMatchObject({ code: 'EUNKNOWN_CHIP' });
    await device.close(); // safe after a failed open
  });

  it('closes idempotently and leaves the line free for the next open', async () => {
    const { device, ctx, line } = relay();
    await device.open(ctx);
    await device.close();
    await device.close();
    expect(line.isOpen).toBe(false);
    await device.open(ctx);
    expect(line.isOpen).toBe(true);
  });

  describe('safeState() never throws', () => {
    it('when the device is not open', async () => {
      const { device } = relay();
      await expect(device.safeState?.()).resolves.toBeUndefined();
    });

    it('when the write fails', async () => {
      const { device, ctx, line } = relay();
      await device.open(ctx);
      // What the sysfs backend throws when the expander stops answering.
      line.failWrites(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
      await expect(device.safeState?.()).resolves.toBeUndefined();
    });
  });

  describe('minimum switch interval', () => {
    it('refuses a change sooner than the interval, saying when it would be accepted', async () => {
      const { device, ctx, clock, line } = relay({ minSwitchIntervalMs: 5000 });
      await device.open(ctx);
      await device.write?.('state', true); // the open itself does not count as a switch
      await clock.advance(1000);
      const error = await device.write?.('state', false).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RelaySwitchTooSoonError);
      expect(error).toMatchObject({ code: 'ESWITCH_TOO_SOON', retryAfterMs: 4000 });
      expect(line.value).toBe(1);
      await clock.advance(4000);
      await device.write?.('state', false);
      expect(line.value).toBe(0);
    });

    it('accepts a repeat of the current state at any time', async () => {
      const { device, ctx } = relay({ minSwitchIntervalMs: 5000 });
      await device.open(ctx);
      await device.write?.('state', true);
      await expect(device.write?.('state', true)).resolves.toBeUndefined();
    });

    it('never delays the safe state, and counts it as a switch', async () => {
      const { device, ctx, clock, line } = relay({ minSwitchIntervalMs: 5000 });
      await device.open(ctx);
      await device.write?.('state', true);
      await clock.advance(10);
      await device.safeState?.();
      expect(line.value).toBe(0);
      await expect(device.write?.('state', true)).rejects.toBeInstanceOf(RelaySwitchTooSoonError);
    });
  });
});
