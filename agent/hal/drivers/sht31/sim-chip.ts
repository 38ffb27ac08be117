/**
 * A simulated Sensirion SHT3x (SHT30/31/35) in single-shot mode (datasheet SHT3x-DIS §4). It takes
 * 16-bit commands — single-shot measurement (0x2400/0x240B/0x2416 without clock stretching,
 * 0x2C06/0x2C0D/0x2C10 with), soft reset 0x30A2, read status 0xF32D, clear status 0x3041, heater
 * 0x306D/0x3066 — and answers reads with 16-bit words each followed by its CRC-8.
 *
 * As the datasheet describes: a read with no result ready is NACKed, and so is everything while a
 * measurement runs (with a clock: the typical durations of Table 4, 12.5/4.5/2.5 ms); a result is
 * read once; an unknown command sets status bit 1. Periodic mode is not modelled (its commands set
 * that bit too). Raw codes are the inverse of §4.13: S_T = (T + 45)·65535/175, S_RH = RH·65535/100,
 * rounded and saturated at the 16-bit range.
 */
import type { Clock } from '../../../core/clock.js';
import type { SimI2cChip } from '../../i2c/sim.js';
import { crc8Sensirion } from './crc8.js';

export interface Sht31Environment {
  readonly temperatureC: number;
  readonly humidityPct: number;
}

export interface SimSht31ChipOptions {
  /** Times measurements and the soft reset; without it they complete at once. */
  readonly clock?: Clock;
  readonly environment?: Partial<Sht31Environment>;
}

/** Typical measurement durations in ms (Table 4), by the command's repeatability. */
const SINGLE_SHOT: ReadonlyMap<number, { durationMs: number; stretch: boolean }> = new Map([
  [0x2400, { durationMs: 12.5, stretch: false }],
  [0x240b, { durationMs: 4.5, stretch: false }],
  [0x2416, { durationMs: 2.5, stretch: false }],
  [0x2c06, { durationMs: 12.5, stretch: true }],
  [0x2c0d, { durationMs: 4.5, stretch: true }],
  [0x2c10, { durationMs: 2.5, stretch: true }],
]);
const SOFT_RESET_MS = 0.5;
const STATUS_AFTER_RESET = 0x8010; // alert pending, reset detected (Table 17)
const STATUS_HEATER = 0x2000;
const STATUS_COMMAND_FAILED = 0x0002;

export class SimSht31Chip implements SimI2cChip {
  /** False: the chip stops acknowledging (unplugged). */
  present = true;
  readonly #clock: Clock | undefined;
  #environment: Sht31Environment = { temperatureC: 25, humidityPct: 40 };
  #status = STATUS_AFTER_RESET;
  #busyUntilMs = 0;
  #measurement: { readyAtMs: number; stretch: boolean } | undefined;
  #output: Uint8Array | undefined;
  #corrupt: 'temperature' | 'humidity' | undefined;

  constructor(options: SimSht31ChipOptions = {}) {
    this.#clock = options.clock;
    this.setEnvironment(options.environment ?? {});
  }

  get environment(): Sht31Environment {
    return this.#environment;
  }

  /** Device side: the status register as it stands (bit 13 heater, bit 4 reset seen, bit 1 bad command). */
  get status(): number {
    return this.#status;
  }

  /** Device side: what the sensor is exposed to; fields left out keep their value. */
  setEnvironment(environment: Partial<Sht31Environment>): void {
    for (const [name, v] of Object.entries(environment)) {
      if (!Number.isFinite(v)) throw new TypeError(`environment.${name} must be a finite number, got ${v}`);
    }
    this.#settle();
    this.#environment = { ...this.#environment, ...environment };
  }

  /** Device side: the next measurement result carries a wrong CRC on one of its two words. */
  corruptNextCrc(word: 'temperature' | 'humidity' = 'temperature'): void {
    this.#corrupt = word;
  }

  /** Device side: a brown-out — results lost, heater off, status back to its power-on value. */
  powerCycle(): void {
    this.#status = STATUS_AFTER_RESET;
    this.#measurement = undefined;
    this.#output = undefined;
    this.#busyUntilMs = this.#nowMs() + (this.#clock ? SOFT_RESET_MS : 0);
  }

  onWrite(bytes: Uint8Array): 'ack' | 'nack' {
    this.#settle();
    if (this.#busy()) return 'nack';
    if (bytes.length !== 2) {
      this.#status |= STATUS_COMMAND_FAILED;
      return 'ack';
    }
    const command = (bytes[0]! << 8) | bytes[1]!;
    this.#status &= ~STATUS_COMMAND_FAILED;
    this.#output = undefined;
    const shot = SINGLE_SHOT.get(command);
    if (shot) {
      const durationMs = this.#clock ? shot.durationMs : 0;
      this.#measurement = { readyAtMs: this.#nowMs() + durationMs, stretch: shot.stretch };
      this.#settle();
      return 'ack';
    }
    switch (command) {
      case 0x30a2:
        this.powerCycle();
        break;
      case 0xf32d:
        this.#output = words(this.#status);
        break;
      case 0x3041:
        this.#status &= ~0x8c10; // alert, both tracking alerts, reset detected
        break;
      case 0x306d:
        this.#status |= STATUS_HEATER;
        break;
      case 0x3066:
        this.#status &= ~STATUS_HEATER;
        break;
      default:
        this.#status |= STATUS_COMMAND_FAILED;
    }
    return 'ack';
  }

  onRead(length: number): Uint8Array | 'nack' {
    // With clock stretching the sensor holds SCL until the result is ready: the read just takes longer.
    if (this.#measurement?.stretch) this.#measurement = { ...this.#measurement, readyAtMs: this.#nowMs() };
    this.#settle();
    if (this.#busy() || !this.#output) return 'nack';
    const out = this.#output.subarray(0, length);
    this.#output = undefined;
    return out;
  }

  #settle(): void {
    if (this.#measurement && this.#nowMs() >= this.#measurement.readyAtMs) {
      this.#measurement = undefined;
      const { temperatureC, humidityPct } = this.#environment;
      const out = words(code(((temperatureC + 45) * 65535) / 175), code((humidityPct * 65535) / 100));
      const crcIndex = this.#corrupt === 'temperature' ? 2 : 5;
      if (this.#corrupt) out[crcIndex] = out[crcIndex]! ^ 0xff;
      this.#corrupt = undefined;
      this.#output = out;
    }
  }

  #busy(): boolean {
    return this.#measurement !== undefined || this.#nowMs() < this.#busyUntilMs;
  }

  #nowMs(): number {
    return this.#clock?.monotonicMs() ?? 0;
  }
}

function code(value: number): number {
  return Math.min(0xffff, Math.max(0, Math.round(value)));
}

/** 16-bit words, big-endian, each followed by its CRC-8 (§4.4). */
function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  values.forEach((v, i) => {
    out[3 * i] = v >> 8;
    out[3 * i + 1] = v & 0xff;
    out[3 * i + 2] = crc8Sensirion(out.subarray(3 * i, 3 * i + 2));
  });
  return out;
}
