import { describe, expect, it } from 'vitest';
import { DeviceAbsentError } from '../../../../../agent/hal/device.js';
import {
  type PulseCounter,
  pulseCounterDriver,
} from '../../../../../agent/hal/drivers/pulse-counter/driver.js';
import type { SimLine } from '../../../../../agent/hal/gpio/sim.js';
import type { FakeClock } from '../../../../support/fake-clock.js';
import { gpioDriverHarness } from '../../../../support/gpio-driver-harness.js';

const LINE = { chip: 'pinctrl-bcm2711', offset: 22 };
/** YF-S201 hall-effect flow sensor: F [Hz] = 7.5 · Q [L/min], i.e. 7.5 · 60 = 450 pulses per litre. */
const YF_S201_PULSES_PER_LITRE = 7.5 * 60;
/** The K-factor per m³, the unit the agent produces (litres are NOT RECOMMENDED, RFC 8428 §12.1). */
const YF_S201_PULSES_PER_M3 = YF_S201_PULSES_PER_LITRE * 1000;
const LITRE_IN_M3 = 1e-3;

function flowMeter(options: Record<string, unknown> = {}) {
  const h = gpioDriverHarness();
  const parsed = pulseCounterDriver.options.parse({
    line: LINE,
    pulsesPerUnit: YF_S201_PULSES_PER_M3,
    ...options,
  });
  const device = pulseCounterDriver.create(parsed, h.buses);
  return { ...h, device, line: h.sim.line(LINE) };
}

/** A square wave of `hz` for `durationMs`, 50 % duty, starting with a rising edge. */
async function pulseTrain(line: SimLine, clock: FakeClock, hz: number, durationMs: number): Promise<void> {
  const halfMs = 500 / hz;
  for (let i = 0; i < Math.round((durationMs * hz) / 1000); i++) {
    line.drive(1);
    await clock.advance(halfMs);
    line.drive(0);
    await clock.advance(halfMs);
  }
}

describe('pulse counter options', () => {
  it('counts rising edges over a one-second window in m3/s and m3 by default', () => {
    expect(pulseCounterDriver.options.parse({ line: LINE, pulsesPerUnit: 450_000 })).toEqual({
      line: LINE,
      pulsesPerUnit: 450_000,
      edge: 'rising',
      windowMs: 1000,
      unit: 'm3/s',
      totalUnit: 'm3',
      debounceMs: 0,
    });
  });

  it.each([
    ['a missing K-factor', { line: LINE }],
    ['a zero K-factor', { line: LINE, pulsesPerUnit: 0 }],
    ['a unit SenML does not have', { line: LINE, pulsesPerUnit: 450, unit: 'l/min' }],
    ['a NOT RECOMMENDED unit (RFC 8428 §12.1)', { line: LINE, pulsesPerUnit: 450, unit: 'l/s' }],
    ['a NOT RECOMMENDED total unit', { line: LINE, pulsesPerUnit: 450, totalUnit: 'l' }],
    ['a secondary unit (RFC 8798 §3)', { line: LINE, pulsesPerUnit: 1, unit: 'kW', totalUnit: 'kWh' }],
    ['both edges (a pulse is one edge)', { line: LINE, pulsesPerUnit: 450, edge: 'both' }],
  ])('rejects %s', (_name, options) => {
    expect(pulseCounterDriver.options.safeParse(options).success).toBe(false);
  });

  it('declares its channels with the configured units', () => {
    const { device } = flowMeter({ unit: 'm3/s', totalUnit: 'm3' });
    expect(device.channels).toEqual([
      { channel: 'rate', unit: 'm3/s' },
      { channel: 'total', unit: 'm3' },
    ]);
  });
});

describe('pulse counter', () => {
  it('turns a YF-S201 pulse train of 75 Hz into 10 L/min (1/6 l/s) in m3/s, and counts the m3', async () => {
    const { device, ctx, line, clock } = flowMeter();
    await device.open(ctx);
    await pulseTrain(line, clock, 75, 2000); // 150 pulses = 1/3 litre
    await device.poll?.();
    const [rate] = ctx.values('rate') as number[];
    expect(rate).toBeCloseTo((10 / 60) * LITRE_IN_M3, 5);
    expect(ctx.values('total')).toEqual([150 / YF_S201_PULSES_PER_M3]);
    expect(ctx.last('total')).toBeCloseTo((1 / 3) * LITRE_IN_M3, 12);
  });

  it('publishes a rate of 0 when no pulses came in the window', async () => {
    const { device, ctx, line, clock } = flowMeter();
    await device.open(ctx);
    await pulseTrain(line, clock, 50, 500);
    await clock.advance(1500);
    await device.poll?.();
    expect(ctx.values('rate')).toEqual([0]);
    expect(ctx.values('total')).toEqual([25 / YF_S201_PULSES_PER_M3]);
  });

  it('averages over the time since open until a full window has passed', async () => {
    const { device, ctx, line, clock } = flowMeter({ windowMs: 2000 });
    await device.open(ctx);
    await pulseTrain(line, clock, 45, 1000); // 6 L/min
    await device.poll?.();
    expect(ctx.values('rate')[0]).toBeCloseTo((6 / 60) * LITRE_IN_M3, 6);
  });

  it('counts only the configured edge', async () => {
    const { device, ctx, line, clock } = flowMeter({
      edge: 'falling',
      pulsesPerUnit: 1,
      totalUnit: 'count',
    });
    await device.open(ctx);
    line.drive(1);
    await clock.advance(10);
    line.drive(0); // the one falling edge
    await clock.advance(10);
    line.drive(1);
    await clock.advance(10);
    await device.poll?.();
    expect(ctx.values('total')).toEqual([1]);
  });

  it('loses no pulse between windows: the totals of many polls add up to every edge driven', async () => {
    const { device, ctx, line, clock } = flowMeter({
      pulsesPerUnit: 1,
      totalUnit: 'count',
      unit: '1/s',
    });
    await device.open(ctx);
    let driven = 0;
    // Irregular pulses with polls at odd instants in between, some landing between a rise and its fall.
    for (let i = 0; i < 200; i++) {
      line.drive(1);
      driven++;
      await clock.advance(1 + (i % 7));
      if (i % 13 === 0) await device.poll?.();
      line.drive(0);
      await clock.advance(2 + (i % 5));
      if (i % 17 === 0) await device.poll?.();
    }
    await device.poll?.();
    expect(ctx.last('total')).toBe(driven);
    expect((device as PulseCounter).pulses).toBe(driven);
  });

  it('ignores contact bounce with debounceMs (a reed-switch water meter)', async () => {
    const { device, ctx, line, clock } = flowMeter({
      pulsesPerUnit: 1,
      totalUnit: 'count',
      debounceMs: 10,
    });
    await device.open(ctx);
    for (let i = 0; i < 3; i++) {
      for (const level of [1, 0, 1, 0, 1] as const) {
        line.drive(level);
        await clock.advance(1);
      }
      await clock.advance(50);
      line.drive(0);
      await clock.advance(50);
    }
    await device.poll?.();
    expect(ctx.values('total')).toEqual([3]);
  });

  it('carries the total across a reopen and starts the rate window afresh', async () => {
    const { device, ctx, line, clock } = flowMeter({
      pulsesPerUnit: 1,
      totalUnit: 'count',
      unit: '1/s',
    });
    await device.open(ctx);
    await pulseTrain(line, clock, 10, 1000);
    await device.close();
    await pulseTrain(line, clock, 10, 1000); // unseen while closed
    await device.open(ctx);
    await clock.advance(500);
    await device.poll?.();
    expect(ctx.values('total')).toEqual([10]);
    expect(ctx.values('rate')).toEqual([0]);
  });

  it('fails a poll once its line has been closed under it, so the supervisor reopens it', async () => {
    const { device, ctx, sim } = flowMeter();
    await device.open(ctx);
    await sim.close();
    await expect(device.poll?.()).rejects.toThrow(/was closed/);
  });

  it('rejects a poll while not open', async () => {
    const { device } = flowMeter();
    await expect(device.poll?.()).rejects.toThrow(/not open/);
  });

  it('reports a line the board does not have as an absent device', async () => {
    const h = gpioDriverHarness();
    const options = pulseCounterDriver.options.parse({
      line: { chip: 'tegra234-gpio', offset: 144 },
      pulsesPerUnit: 450,
    });
    await expect(pulseCounterDriver.create(options, h.buses).open(h.ctx)).rejects.toBeInstanceOf(
      DeviceAbsentError,
    );
  });
});
