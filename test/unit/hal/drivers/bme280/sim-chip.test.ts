import { beforeEach, describe, expect, it } from 'vitest';
import { encodeBme280Calibration } from '../../../../../agent/hal/drivers/bme280/compensation.js';
import { SIM_BME280_CALIBRATION, SimBme280Chip } from '../../../../../agent/hal/drivers/bme280/sim-chip.js';
import { SimI2c } from '../../../../../agent/hal/i2c/sim.js';
import type { I2cBus } from '../../../../../agent/hal/i2c/types.js';
import { FakeClock } from '../../../../support/fake-clock.js';

describe('SimBme280Chip register map', () => {
  let clock: FakeClock;
  let chip: SimBme280Chip;
  let bus: I2cBus;

  beforeEach(async () => {
    clock = new FakeClock();
    chip = new SimBme280Chip({ clock });
    const sim = new SimI2c();
    sim.attach(1, 0x77, chip);
    bus = await sim.open(1);
  });

  it('answers chip id 0x60 and holds the calibration at 0x88–0xA1 and 0xE1–0xE7', async () => {
    const { tp, h } = encodeBme280Calibration(SIM_BME280_CALIBRATION);
    expect(await bus.readByte(0x77, 0xd0)).toBe(0x60);
    expect([...(await bus.readBlock(0x77, 0x88, 26))]).toEqual([...tp]);
    expect([...(await bus.readBlock(0x77, 0xe1, 7))]).toEqual([...h]);
    // dig_T1 = 27504 = 0x6B70, little-endian.
    expect([await bus.readByte(0x77, 0x88), await bus.readByte(0x77, 0x89)]).toEqual([0x70, 0x6b]);
  });

  it('reads 0x80000 / 0x8000 in the data registers after reset, and its NVM copy takes 2 ms', async () => {
    await bus.writeByte(0x77, 0xe0, 0xb6);
    expect([...(await bus.readBlock(0x77, 0xf7, 8))]).toEqual([0x80, 0, 0, 0x80, 0, 0, 0x80, 0]);
    expect(await bus.readByte(0x77, 0xf3)).toBe(0x01);
    await clock.advance(2);
    expect(await bus.readByte(0x77, 0xf3)).toBe(0x00);
  });

  it('applies ctrl_hum only at the next ctrl_meas write (§5.4.3)', async () => {
    const humidity = async () => [...(await bus.readBlock(0x77, 0xfd, 2))];
    await bus.writeByte(0x77, 0xf4, 0b001_001_11); // normal mode, humidity skipped
    await clock.advance(10);
    expect(await humidity()).toEqual([0x80, 0x00]);
    await bus.writeByte(0x77, 0xf2, 0x01);
    await clock.advance(10);
    expect(await humidity()).toEqual([0x80, 0x00]);
    await bus.writeByte(0x77, 0xf4, 0b001_001_11);
    await clock.advance(10);
    expect(await humidity()).not.toEqual([0x80, 0x00]);
  });

  it('sets status.measuring for the typical measurement time of a forced measurement, then sleeps', async () => {
    await clock.advance(2); // past the power-on NVM copy (status.im_update)
    await bus.writeByte(0x77, 0xf2, 0x01);
    await bus.writeByte(0x77, 0xf4, 0b001_001_01); // ×1 ×1 ×1 forced: 1 + 2 + 2.5 + 2.5 = 8 ms
    expect(await bus.readByte(0x77, 0xf3)).toBe(0x08);
    expect(chip.mode).toBe('forced');
    await clock.advance(7.9);
    expect(await bus.readByte(0x77, 0xf3)).toBe(0x08);
    await clock.advance(0.1);
    expect(await bus.readByte(0x77, 0xf3)).toBe(0x00);
    expect(chip.mode).toBe('sleep');
    expect((await bus.readByte(0x77, 0xf4)) & 0x03).toBe(0);
  });

  it('samples the environment as it was when the measurement completed', async () => {
    chip.setEnvironment({ temperatureC: 20 });
    await bus.writeByte(0x77, 0xf4, 0b001_000_01);
    await clock.advance(5);
    chip.setEnvironment({ temperatureC: 60 }); // after completion: not in this sample
    const d = await bus.readBlock(0x77, 0xfa, 3);
    const adcT = (d[0]! << 12) | (d[1]! << 4) | (d[2]! >> 4);
    expect(adcT).toBeLessThan(0x80000); // 20 °C is below the code of ~26.5 °C with these trims
  });

  it('takes register writes as address/value pairs, as Bosch parts do (§6.2.1)', async () => {
    await bus.i2cWrite(0x77, Uint8Array.of(0xf2, 0x03, 0xf5, 0x10));
    expect(chip.peek(0xf2)).toBe(0x03);
    expect(chip.peek(0xf5)).toBe(0x10);
  });

  it('ignores config writes in normal mode (§5.4.6) and read-only registers always', async () => {
    await bus.writeByte(0x77, 0xf4, 0b001_001_11);
    await bus.writeByte(0x77, 0xf5, 0x10);
    await bus.writeByte(0x77, 0xd0, 0x12);
    expect(chip.peek(0xf5)).toBe(0x00);
    expect(chip.peek(0xd0)).toBe(0x60);
  });

  it('refuses a non-finite environment', () => {
    expect(() => chip.setEnvironment({ temperatureC: Number.NaN })).toThrow(TypeError);
  });
});
