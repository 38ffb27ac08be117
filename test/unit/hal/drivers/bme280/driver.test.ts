import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../../../../agent/core/errors.js';
import type { Buses } from '../../../../../agent/hal/buses.js';
import { type Device, DeviceAbsentError, DeviceDataError } from '../../../../../agent/hal/device.js';
import { bme280Driver } from '../../../../../agent/hal/drivers/bme280/driver.js';
import { SimBme280Chip } from '../../../../../agent/hal/drivers/bme280/sim-chip.js';
import { I2cError } from '../../../../../agent/hal/i2c/errors.js';
import { SimI2c } from '../../../../../agent/hal/i2c/sim.js';
import { FakeClock } from '../../../../support/fake-clock.js';
import { onlyBuses } from '../../../../support/only-buses.js';
import { openPolledSensor } from '../../../../support/open-polled-sensor.js';
import { RecordingContext } from '../../../../support/recording-context.js';

describe('bme280 driver', () => {
  let clock: FakeClock;
  let sim: SimI2c;
  let chip: SimBme280Chip;
  let buses: Buses;

  beforeEach(() => {
    clock = new FakeClock();
    sim = new SimI2c();
    chip = new SimBme280Chip({ clock });
    sim.attach(1, 0x76, chip);
    buses = onlyBuses({ i2c: sim });
  });

  function create(options: Record<string, unknown> = {}): Device {
    return bme280Driver.create(bme280Driver.options.parse({ bus: 1, ...options }), buses);
  }

  async function openDevice(options: Record<string, unknown> = {}) {
    const device = create(options);
    return { device, ...(await openPolledSensor(device, clock)) };
  }

  it('reads back the environment the chip is exposed to, at the default ×1 oversampling', async () => {
    const { poll } = await openDevice();
    chip.setEnvironment({ temperatureC: 21.37, humidityPct: 45.2, pressurePa: 100_800 });
    const r = await poll();
    expect(Object.keys(r).sort()).toEqual(['humidity', 'pressure', 'temperature']);
    // 16-bit resolution: 0.005 °C and ~3 Pa steps; humidity is always 16-bit.
    expect(Math.abs(r.temperature! - 21.37)).toBeLessThan(0.005);
    expect(Math.abs(r.humidity! - 45.2)).toBeLessThan(0.01);
    expect(Math.abs(r.pressure! - 100_800)).toBeLessThan(2);
  });

  it('reads back any environment in the operating range within the resolution ×16 oversampling gives', async () => {
    const { poll } = await openDevice({ oversampling: { temperature: 16, pressure: 16, humidity: 16 } });
    const env = fc.record({
      // Kept off the range limits, where a reading within the resolution may fall outside and be refused.
      temperatureC: fc.double({ min: -39.9, max: 84.9, noNaN: true }),
      humidityPct: fc.double({ min: 0, max: 100, noNaN: true }),
      pressurePa: fc.double({ min: 30_010, max: 109_990, noNaN: true }),
    });
    await fc.assert(
      fc.asyncProperty(env, async (e) => {
        chip.setEnvironment(e);
        const r = await poll();
        expect(Math.abs(r.temperature! - e.temperatureC)).toBeLessThan(0.001);
        expect(Math.abs(r.humidity! - e.humidityPct)).toBeLessThan(0.01);
        expect(Math.abs(r.pressure! - e.pressurePa)).toBeLessThan(0.5);
      }),
      { numRuns: 40 },
    );
  });

  it('reads the calibration once, at open, not on every poll', async () => {
    const { poll } = await openDevice();
    await poll();
    await poll();
    expect(chip.readCount(0x88)).toBe(1);
    expect(chip.readCount(0xe1)).toBe(1);
  });

  it('in forced mode triggers one measurement per poll and leaves the sensor asleep', async () => {
    const { poll } = await openDevice();
    expect(chip.mode).toBe('sleep');
    chip.setEnvironment({ temperatureC: 30 });
    expect((await poll()).temperature).toBeCloseTo(30, 2);
    expect(chip.mode).toBe('sleep');
  });

  it('in normal mode lets the sensor free-run and reads its latest sample', async () => {
    const { poll } = await openDevice({ mode: 'normal', standbyMs: 62.5 });
    expect(chip.mode).toBe('normal');
    chip.setEnvironment({ temperatureC: 40 });
    expect((await poll()).temperature).toBeCloseTo(40, 2);
    expect(chip.peek(0xf5)).toBe((1 << 5) | 0); // t_sb 62.5 ms, filter off: config written before normal mode
  });

  it('omits a channel whose measurement is configured off', async () => {
    const { device, poll } = await openDevice({ oversampling: { pressure: 0 } });
    expect(device.channels.map((c) => c.channel)).toEqual(['temperature', 'humidity']);
    expect(Object.keys(await poll()).sort()).toEqual(['humidity', 'temperature']);
  });

  it('rejects open with DeviceAbsentError when nothing answers at the address', async () => {
    chip.present = false;
    const device = create();
    const error = await clock.settle(device.open(new RecordingContext(clock))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceAbsentError);
    expect((error as Error).cause).toBeInstanceOf(I2cError);
    await device.close();
    await device.close();
    expect(sim.openHandles()).toBe(0);
  });

  it('rejects open with DeviceAbsentError naming the part when the chip id is not a BME280', async () => {
    sim.detach(1, 0x76);
    sim.attach(1, 0x76, new SimBme280Chip({ clock, chipId: 0x58 }));
    const error = await clock.settle(create().open(new RecordingContext(clock))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceAbsentError);
    expect((error as Error).message).toMatch(/chip id 0x58 \(BMP280\)/);
  });

  it('reports a sensor that browned out as DeviceDataError, and reopening restores it', async () => {
    const { device, poll } = await openDevice();
    chip.powerCycle(); // ctrl_hum lost: humidity is now skipped (0x8000)
    await expect(poll()).rejects.toThrow(DeviceDataError);
    await device.close();
    const reopened = await openDevice();
    await expect(reopened.poll()).resolves.toHaveProperty('humidity');
  });

  it('reports reset-value data in normal mode as DeviceDataError (the sensor went back to sleep)', async () => {
    const { poll } = await openDevice({ mode: 'normal' });
    chip.powerCycle();
    await expect(poll()).rejects.toThrow(/temperature measurement skipped/);
  });

  it('rejects a temperature beyond the sensor’s range with DeviceDataError and publishes nothing', async () => {
    const { poll, ctx } = await openDevice();
    chip.setEnvironment({ temperatureC: 95 });
    await expect(poll()).rejects.toThrow(DeviceDataError);
    expect(ctx.published).toEqual([]);
  });

  it('passes a bus error during a poll through as the I2cError', async () => {
    const { poll } = await openDevice();
    sim.failNext(1, 0x76, { code: 'EREMOTEIO', count: 1 });
    await expect(poll()).rejects.toMatchObject({ name: 'I2cError', code: 'EREMOTEIO' });
    await expect(poll()).resolves.toHaveProperty('temperature');
  });

  it('gives up with TimeoutError when status.measuring never clears', async () => {
    const { poll } = await openDevice();
    const stuck = new (class extends SimBme280Chip {
      protected override readRegister(register: number): number {
        return register === 0xf3 ? 0x08 : super.readRegister(register);
      }
    })({ clock });
    sim.detach(1, 0x76);
    sim.attach(1, 0x76, stuck);
    await expect(poll()).rejects.toThrow(TimeoutError);
  });

  it('validates its options block strictly, with the datasheet defaults', () => {
    expect(bme280Driver.options.parse({ bus: 1 })).toEqual({
      bus: 1,
      address: 0x76,
      mode: 'forced',
      oversampling: { temperature: 1, pressure: 1, humidity: 1 },
      filter: 0,
      standbyMs: 1000,
    });
    expect(bme280Driver.options.safeParse({ bus: 1, address: 0x78 }).success).toBe(false);
    expect(bme280Driver.options.safeParse({ bus: 1, oversampling: { temperature: 3 } }).success).toBe(false);
    expect(bme280Driver.options.safeParse({ bus: 1, adress: 0x77 }).success).toBe(false);
    expect(bme280Driver.bus).toBe('i2c');
  });
});
