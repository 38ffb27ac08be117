/**
 * Sensirion SHT3x (SHT30/31/35) temperature / humidity sensor on I²C (datasheet SHT3x-DIS), in
 * single-shot mode without clock stretching (§4.3): the Raspberry Pi's I²C controller mishandles
 * clock stretching, so the driver waits the maximum measurement time itself and reads afterwards;
 * a sensor that is not done yet NACKs the read, which is retried a few times, 1 ms apart.
 *
 * The SHT3x has no id register: `open` soft-resets it (0x30A2, §4.9) and reads the status register
 * (0xF32D, §4.11) — a device that ACKs and returns a status word with a valid CRC is taken to be one.
 * Every 16-bit word is followed by a CRC-8 (§4.12); a mismatch is a DeviceDataError. Conversion §4.13:
 * T = −45 + 175·S_T/(2¹⁶−1) °C, RH = 100·S_RH/(2¹⁶−1) %.
 */
import { z } from 'zod';
import type { Buses } from '../../buses.js';
import type { ChannelDecl, Device, DeviceContext } from '../../device.js';
import { DeviceAbsentError, DeviceDataError } from '../../device.js';
import { formatAddress, isI2cNack } from '../../i2c/errors.js';
import type { I2cBus } from '../../i2c/types.js';
import type { DriverFactory } from '../driver-factory.js';
import { numberIn } from '../number-in.js';
import { crc8Sensirion } from './crc8.js';

export const sht31Options = z
  .object({
    bus: z.number().int().min(0),
    /** 0x44 with ADDR low (the usual breakout), 0x45 with ADDR high. */
    address: numberIn([0x44, 0x45]).default(0x44),
    /** Higher repeatability: less noise, longer measurement (§2.2 Table 1, §4.3 Table 9). */
    repeatability: z.enum(['high', 'medium', 'low']).default('high'),
  })
  .strict();

export type Sht31Options = z.infer<typeof sht31Options>;

/** Single-shot commands without clock stretching and their maximum durations (Table 4, Table 9). */
const SINGLE_SHOT = {
  high: { command: [0x24, 0x00], maxMs: 15 },
  medium: { command: [0x24, 0x0b], maxMs: 6 },
  low: { command: [0x24, 0x16], maxMs: 4 },
} as const;
const SOFT_RESET = Uint8Array.of(0x30, 0xa2);
const READ_STATUS = Uint8Array.of(0xf3, 0x2d);
/** Soft-reset time is at most 1.5 ms (Table 4). */
const SOFT_RESET_MS = 2;
const READ_ATTEMPTS = 4;

class Sht31Device implements Device {
  readonly channels: readonly ChannelDecl[] = [
    { channel: 'temperature', unit: 'Cel' },
    { channel: 'humidity', unit: '%RH' },
  ];
  readonly #options: Sht31Options;
  readonly #buses: Buses;
  readonly #where: string;
  #ctx: DeviceContext | undefined;
  #bus: I2cBus | undefined;

  constructor(options: Sht31Options, buses: Buses) {
    this.#options = options;
    this.#buses = buses;
    this.#where = `i2c-${options.bus} ${formatAddress(options.address)}`;
  }

  async open(ctx: DeviceContext): Promise<void> {
    this.#ctx = ctx;
    const address = this.#options.address;
    const bus = await this.#buses.i2c.open(this.#options.bus);
    this.#bus = bus;
    try {
      await bus.i2cWrite(address, SOFT_RESET);
    } catch (e) {
      if (isI2cNack(e))
        throw new DeviceAbsentError(`no SHT3x at ${this.#where}: no acknowledge`, { cause: e });
      throw e;
    }
    await ctx.clock.sleep(SOFT_RESET_MS, ctx.signal);
    await bus.i2cWrite(address, READ_STATUS);
    const status = await bus.i2cRead(address, 3);
    if (crc8Sensirion(status.subarray(0, 2)) !== status[2]) {
      throw new DeviceAbsentError(`${this.#where} does not answer like an SHT3x: status word fails its CRC`);
    }
    ctx.log.debug({ where: this.#where, status: (status[0]! << 8) | status[1]! }, 'sht31 open');
  }

  async poll(): Promise<void> {
    const bus = this.#bus;
    const ctx = this.#ctx;
    if (!bus || !ctx) throw new Error(`sht31 ${this.#where}: poll before open`);
    const { command, maxMs } = SINGLE_SHOT[this.#options.repeatability];
    await bus.i2cWrite(this.#options.address, Uint8Array.from(command));
    await ctx.clock.sleep(maxMs, ctx.signal);
    const data = await this.#readResult(bus, ctx);
    const rawT = this.#word(data, 0, 'temperature');
    const rawRh = this.#word(data, 3, 'humidity');
    ctx.publish('temperature', -45 + (175 * rawT) / 65535);
    ctx.publish('humidity', (100 * rawRh) / 65535);
  }

  async close(): Promise<void> {
    const bus = this.#bus;
    this.#bus = undefined;
    await bus?.close();
  }

  /** The sensor NACKs the read header until the result is ready (§4.3); give it a few ms of slack. */
  async #readResult(bus: I2cBus, ctx: DeviceContext): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await bus.i2cRead(this.#options.address, 6);
      } catch (e) {
        if (!isI2cNack(e) || attempt >= READ_ATTEMPTS) throw e;
        await ctx.clock.sleep(1, ctx.signal);
      }
    }
  }

  #word(data: Uint8Array, offset: number, what: string): number {
    const word = data.subarray(offset, offset + 2);
    const crc = crc8Sensirion(word);
    if (crc !== data[offset + 2]) {
      throw new DeviceDataError(
        `sht31 ${this.#where}: ${what} CRC mismatch (got ${hex(data[offset + 2]!)}, computed ${hex(crc)})`,
      );
    }
    return (word[0]! << 8) | word[1]!;
  }
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

export const sht31Driver: DriverFactory<Sht31Options> = {
  driver: 'sht31',
  bus: 'i2c',
  options: sht31Options,
  create: (options, buses) => new Sht31Device(options, buses),
};
