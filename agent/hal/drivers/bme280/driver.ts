/**
 * Bosch BME280 temperature / humidity / pressure sensor on I²C (datasheet BST-BME280-DS002).
 *
 * `open` checks the chip id (0xD0 = 0x60), soft-resets the part, waits for its NVM copy, reads the
 * trimming parameters once, and configures ctrl_hum → config → ctrl_meas in that order: ctrl_hum
 * takes effect only at a ctrl_meas write (§5.4.3) and config writes may be ignored outside sleep mode
 * (§5.4.6). In `forced` mode (the default, §3.3.2: one measurement per poll, least self-heating)
 * `poll` triggers a measurement, waits the datasheet's maximum measurement time (§9.1) and checks
 * `status.measuring`; in `normal` mode the sensor free-runs and `poll` just reads the latest sample.
 * Data are read in one burst 0xF7–0xFE so the three values come from the same measurement (§4).
 * Compensation uses the datasheet's double-precision formulas (Appendix A §8.1, compensation.ts).
 *
 * A poll publishes all channels or none. DeviceDataError for a skipped measurement (0x80000 / 0x8000:
 * the part was reset behind our back and lost its configuration — reopening restores it) and for a
 * value outside the sensor's operating range (−40…85 °C, 300…1100 hPa, §1). The defaults are the
 * datasheet's "weather monitoring" settings (§3.5.1): oversampling ×1, filter off.
 */
import { z } from 'zod';
import { TimeoutError } from '../../../core/errors.js';
import type { Buses } from '../../buses.js';
import type { ChannelDecl, Device, DeviceContext } from '../../device.js';
import { DeviceAbsentError, DeviceDataError } from '../../device.js';
import { formatAddress, isI2cNack } from '../../i2c/errors.js';
import type { I2cBus } from '../../i2c/types.js';
import type { DriverFactory } from '../driver-factory.js';
import { numberIn } from '../number-in.js';
import {
  BME280_CALIB_H_LENGTH,
  BME280_CALIB_H_REG,
  BME280_CALIB_TP_LENGTH,
  BME280_CALIB_TP_REG,
  type Bme280Calibration,
  compensateHumidity,
  compensatePressure,
  compensateTemperature,
  parseBme280Calibration,
} from './compensation.js';

const oversampling = numberIn([0, 1, 2, 4, 8, 16]);

export const bme280Options = z
  .object({
    bus: z.number().int().min(0),
    address: numberIn([0x76, 0x77]).default(0x76),
    mode: z.enum(['forced', 'normal']).default('forced'),
    /** ×1…×16; 0 skips that measurement and drops its channel (temperature cannot be skipped). */
    oversampling: z
      .object({
        temperature: numberIn([1, 2, 4, 8, 16]).default(1),
        pressure: oversampling.default(1),
        humidity: oversampling.default(1),
      })
      .strict()
      .default({}),
    /** IIR filter coefficient for temperature and pressure (§3.4.4); 0 = off. */
    filter: numberIn([0, 2, 4, 8, 16]).default(0),
    /** Normal mode only: standby between measurements (§3.6.3, Table 27). */
    standbyMs: numberIn([0.5, 10, 20, 62.5, 125, 250, 500, 1000]).default(1000),
  })
  .strict();

export type Bme280Options = z.infer<typeof bme280Options>;

const REG = { id: 0xd0, reset: 0xe0, ctrlHum: 0xf2, status: 0xf3, ctrlMeas: 0xf4, config: 0xf5, data: 0xf7 };
const BME280_CHIP_ID = 0x60;
const OTHER_PARTS: Record<number, string> = {
  85: 'BMP180',
  86: 'BMP280',
  87: 'BMP280',
  88: 'BMP280',
  97: 'BME680',
};
const OSRS_CODE: Record<number, number> = { 0: 0, 1: 1, 2: 2, 4: 3, 8: 4, 16: 5 };
const FILTER_CODE: Record<number, number> = { 0: 0, 2: 1, 4: 2, 8: 3, 16: 4 };
const STANDBY_CODE: Record<number, number> = {
  0.5: 0,
  62.5: 1,
  125: 2,
  250: 3,
  500: 4,
  1000: 5,
  10: 6,
  20: 7,
};
const SKIPPED_20 = 0x80000;
const SKIPPED_16 = 0x8000;
/** Start-up time after a soft reset, §1 Table 1 (t_startup). */
const STARTUP_MS = 2;
const STATUS_POLLS = 5;

class Bme280Device implements Device {
  readonly channels: readonly ChannelDecl[];
  readonly #options: Bme280Options;
  readonly #buses: Buses;
  readonly #where: string;
  #ctx: DeviceContext | undefined;
  #bus: I2cBus | undefined;
  #calibration: Bme280Calibration | undefined;

  constructor(options: Bme280Options, buses: Buses) {
    this.#options = options;
    this.#buses = buses;
    this.#where = `i2c-${options.bus} ${formatAddress(options.address)}`;
    const { pressure, humidity } = options.oversampling;
    this.channels = [
      { channel: 'temperature', unit: 'Cel' },
      ...(humidity ? [{ channel: 'humidity', unit: '%RH' } as const] : []),
      ...(pressure ? [{ channel: 'pressure', unit: 'Pa' } as const] : []),
    ];
  }

  async open(ctx: DeviceContext): Promise<void> {
    this.#ctx = ctx;
    const address = this.#options.address;
    const bus = await this.#buses.i2c.open(this.#options.bus);
    this.#bus = bus;

    let chipId: number;
    try {
      chipId = await bus.readByte(address, REG.id);
    } catch (e) {
      if (isI2cNack(e))
        throw new DeviceAbsentError(`no BME280 at ${this.#where}: no acknowledge`, { cause: e });
      throw e;
    }
    if (chipId !== BME280_CHIP_ID) {
      const part = OTHER_PARTS[chipId] ? ` (${OTHER_PARTS[chipId]})` : '';
      throw new DeviceAbsentError(
        `${this.#where} is not a BME280: chip id 0x${chipId.toString(16).padStart(2, '0')}${part}, expected 0x60`,
      );
    }

    await bus.writeByte(address, REG.reset, 0xb6);
    await ctx.clock.sleep(STARTUP_MS, ctx.signal);
    await this.#waitStatusClear(0x01, 'NVM copy after reset');

    const tp = await bus.readBlock(address, BME280_CALIB_TP_REG, BME280_CALIB_TP_LENGTH);
    const h = await bus.readBlock(address, BME280_CALIB_H_REG, BME280_CALIB_H_LENGTH);
    const calibration = parseBme280Calibration(tp, h);
    if (calibration.digT1 === 0 || calibration.digP1 === 0) {
      throw new DeviceDataError(`${this.#where}: blank calibration (dig_T1 or dig_P1 is 0)`);
    }
    this.#calibration = calibration;

    const { oversampling: osr, filter, standbyMs, mode } = this.#options;
    await bus.writeByte(address, REG.ctrlHum, OSRS_CODE[osr.humidity]!);
    await bus.writeByte(address, REG.config, (STANDBY_CODE[standbyMs]! << 5) | (FILTER_CODE[filter]! << 2));
    await bus.writeByte(address, REG.ctrlMeas, this.#ctrlMeas(mode === 'normal' ? 0b11 : 0b00));
    // Normal mode: the data registers hold the reset value until the first measurement completes.
    if (mode === 'normal') await ctx.clock.sleep(this.#maxMeasurementMs(), ctx.signal);
    ctx.log.debug({ where: this.#where, mode }, 'bme280 open');
  }

  async poll(): Promise<void> {
    const bus = this.#bus;
    const calibration = this.#calibration;
    const ctx = this.#ctx;
    if (!bus || !calibration || !ctx) throw new Error(`bme280 ${this.#where}: poll before open`);
    const address = this.#options.address;

    if (this.#options.mode === 'forced') {
      await bus.writeByte(address, REG.ctrlMeas, this.#ctrlMeas(0b01));
      await ctx.clock.sleep(this.#maxMeasurementMs(), ctx.signal);
      await this.#waitStatusClear(0x08, 'measurement');
    }

    const d = await bus.readBlock(address, REG.data, 8);
    const adcP = (d[0]! << 12) | (d[1]! << 4) | (d[2]! >> 4);
    const adcT = (d[3]! << 12) | (d[4]! << 4) | (d[5]! >> 4);
    const adcH = (d[6]! << 8) | d[7]!;
    const { pressure, humidity } = this.#options.oversampling;

    if (adcT === SKIPPED_20) this.#skipped('temperature');
    const { temperatureC, tFine } = compensateTemperature(adcT, calibration);
    this.#checkRange('temperature', temperatureC, -40, 85, '°C');
    const readings: [string, number][] = [['temperature', temperatureC]];

    if (humidity) {
      if (adcH === SKIPPED_16) this.#skipped('humidity');
      readings.push(['humidity', compensateHumidity(adcH, tFine, calibration)]);
    }
    if (pressure) {
      if (adcP === SKIPPED_20) this.#skipped('pressure');
      const pressurePa = compensatePressure(adcP, tFine, calibration);
      this.#checkRange('pressure', pressurePa, 30_000, 110_000, 'Pa');
      readings.push(['pressure', pressurePa]);
    }
    for (const [channel, value] of readings) ctx.publish(channel, value);
  }

  async close(): Promise<void> {
    const bus = this.#bus;
    this.#bus = undefined;
    this.#calibration = undefined;
    await bus?.close();
  }

  #ctrlMeas(mode: number): number {
    const { temperature, pressure } = this.#options.oversampling;
    return (OSRS_CODE[temperature]! << 5) | (OSRS_CODE[pressure]! << 2) | mode;
  }

  /** Maximum measurement time, §9.1: 1.25 + 2.3·T + (2.3·P + 0.575) + (2.3·H + 0.575) ms. */
  #maxMeasurementMs(): number {
    const { temperature: t, pressure: p, humidity: h } = this.#options.oversampling;
    return Math.ceil(1.25 + 2.3 * t + (p ? 2.3 * p + 0.575 : 0) + (h ? 2.3 * h + 0.575 : 0));
  }

  async #waitStatusClear(bit: number, what: string): Promise<void> {
    const ctx = this.#ctx!;
    for (let i = 0; ; i++) {
      const status = await this.#bus!.readByte(this.#options.address, REG.status);
      if ((status & bit) === 0) return;
      if (i + 1 >= STATUS_POLLS) throw new TimeoutError(`bme280 ${this.#where}: ${what} did not complete`);
      await ctx.clock.sleep(1, ctx.signal);
    }
  }

  #skipped(what: string): never {
    throw new DeviceDataError(
      `bme280 ${this.#where}: ${what} measurement skipped (reset value): the sensor lost its configuration`,
    );
  }

  #checkRange(what: string, value: number, min: number, max: number, unit: string): void {
    if (!(value >= min && value <= max)) {
      throw new DeviceDataError(
        `bme280 ${this.#where}: ${what} ${value.toFixed(2)} ${unit} outside the sensor's range ${min}…${max}`,
      );
    }
  }
}

export const bme280Driver: DriverFactory<Bme280Options> = {
  driver: 'bme280',
  bus: 'i2c',
  options: bme280Options,
  create: (options, buses) => new Bme280Device(options, buses),
};
