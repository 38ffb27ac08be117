import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Buses } from '../../../../../agent/hal/buses.js';
import { type Device, DeviceAbsentError, DeviceDataError } from '../../../../../agent/hal/device.js';
import { crc8Sensirion } from '../../../../../agent/hal/drivers/sht31/crc8.js';
import { sht31Driver } from '../../../../../agent/hal/drivers/sht31/driver.js';
import { SimSht31Chip } from '../../../../../agent/hal/drivers/sht31/sim-chip.js';
import { isI2cNack } from '../../../../../agent/hal/i2c/errors.js';
import { SimI2c, type SimI2cChip } from '../../../../../agent/hal/i2c/sim.js';
import { FakeClock } from '../../../../support/fake-clock.js';
import { onlyBuses } from '../../../../support/only-buses.js';
import { openPolledSensor } from '../../../../support/open-polled-sensor.js';
import { RecordingContext } from '../../../../support/recording-context.js';

/** A device side that answers every read with fixed bytes: for testing conversion independently of the sim. */
function fixedAnswerChip(answer: Uint8Array): SimI2cChip {
  return { present: true, onWrite: () => 'ack', onRead: () => answer };
}

function withCrc(...words: number[]): Uint8Array {
  return Uint8Array.from(words.flatMap((w) => [w >> 8, w & 0xff, crc8Sensirion([w >> 8, w & 0xff])]));
}

describe('sht31 driver', () => {
  let clock: FakeClock;
  let sim: SimI2c;
  let chip: SimSht31Chip;
  let buses: Buses;

  beforeEach(() => {
    clock = new FakeClock();
    sim = new SimI2c();
    chip = new SimSht31Chip({ clock });
    sim.attach(1, 0x44, chip);
    buses = onlyBuses({ i2c: sim });
  });

  function create(options: Record<string, unknown> = {}): Device {
    return sht31Driver.create(sht31Driver.options.parse({ bus: 1, ...options }), buses);
  }

  async function openDevice(options: Record<string, unknown> = {}) {
    const device = create(options);
    return { device, ...(await openPolledSensor(device, clock)) };
  }

  it('converts with the datasheet formulas: S_T 0x6666 is 25.00 °C, S_RH 0x8000 is 50.0 %RH', async () => {
    sim.detach(1, 0x44);
    sim.attach(1, 0x44, fixedAnswerChip(withCrc(0x6666, 0x8000)));
    const { poll } = await openDevice();
    const r = await poll();
    expect(r.temperature).toBeCloseTo(25.0, 10); // −45 + 175·26214/65535 = −45 + 175·0.4
    expect(r.humidity).toBeCloseTo((100 * 32768) / 65535, 10);
  });

  it('spans −45…130 °C and 0…100 %RH over the 16-bit codes', async () => {
    sim.detach(1, 0x44);
    const answer = withCrc(0x0000, 0xffff);
    sim.attach(1, 0x44, fixedAnswerChip(answer));
    const { poll } = await openDevice();
    expect(await poll()).toEqual({ temperature: -45, humidity: 100 });
    answer.set(withCrc(0xffff, 0x0000));
    expect(await poll()).toEqual({ temperature: 130, humidity: 0 });
  });

  it('reads back the environment the chip is exposed to within one code', async () => {
    const { poll } = await openDevice();
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: -45, max: 130, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        async (temperatureC, humidityPct) => {
          chip.setEnvironment({ temperatureC, humidityPct });
          const r = await poll();
          expect(Math.abs(r.temperature! - temperatureC)).toBeLessThan(175 / 65535);
          expect(Math.abs(r.humidity! - humidityPct)).toBeLessThan(100 / 65535);
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each(['temperature', 'humidity'] as const)(
    'rejects a %s word with a bad CRC as DeviceDataError, publishing nothing, and the next poll is good',
    async (word) => {
      const { poll, ctx } = await openDevice();
      chip.corruptNextCrc(word);
      await expect(poll()).rejects.toThrow(DeviceDataError);
      expect(ctx.published).toEqual([]);
      await expect(poll()).resolves.toHaveProperty('humidity');
    },
  );

  it('waits only as long as the chosen repeatability needs', async () => {
    const { device } = await openDevice({ repeatability: 'low' });
    let done = false;
    const polled = device.poll!().then(() => (done = true));
    await clock.advance(4);
    expect(done).toBe(true);
    await polled;
  });

  it('retries a read the sensor NACKs while it is still measuring', async () => {
    const { device, ctx } = await openDevice();
    chip.setEnvironment({ temperatureC: 22 });
    const polled = device.poll!();
    await clock.advance(14); // the command is through; the driver is still waiting
    sim.failNext(1, 0x44, { count: 2 });
    await clock.settle(polled);
    expect(ctx.last('temperature')).toBeCloseTo(22, 2);
  });

  it('gives up with the NACK when the sensor keeps refusing the read', async () => {
    const { device } = await openDevice();
    const polled = device.poll!();
    await clock.advance(14);
    sim.failNext(1, 0x44, { count: 10 });
    await expect(clock.settle(polled)).rejects.toSatisfy(isI2cNack);
  });

  it('rejects open with DeviceAbsentError when nothing answers, and closes cleanly after', async () => {
    chip.present = false;
    const device = create();
    await expect(clock.settle(device.open(new RecordingContext(clock)))).rejects.toThrow(DeviceAbsentError);
    await device.close();
    await device.close();
    expect(sim.openHandles()).toBe(0);
  });

  it('rejects open with DeviceAbsentError when the status word fails its CRC (not an SHT3x)', async () => {
    sim.detach(1, 0x44);
    sim.attach(1, 0x44, fixedAnswerChip(Uint8Array.of(0x80, 0x10, 0x00)));
    await expect(clock.settle(create().open(new RecordingContext(clock)))).rejects.toThrow(
      /status word fails its CRC/,
    );
  });

  it('validates its options block strictly', () => {
    expect(sht31Driver.options.parse({ bus: 1 })).toEqual({ bus: 1, address: 0x44, repeatability: 'high' });
    expect(sht31Driver.options.safeParse({ bus: 1, address: 0x46 }).success).toBe(false);
    expect(sht31Driver.options.safeParse({ bus: 1, heater: true }).success).toBe(false);
  });
});
