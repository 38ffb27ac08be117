/**
 * A simulated PMS5003 behind a simulated serial port: in active mode it pushes one frame per period
 * (default 1 s, on the injected clock) with the concentrations it was given, whether or not anyone has
 * the port open — as the real sensor does. Tests and the simulated board set the air
 * (`setConcentrations`) and inject the faults a real line has: noise, a corrupted checksum, a frame cut
 * short. It only talks through the port's device side, so the driver under test sees exactly the bytes
 * a real sensor would send.
 */
import type { Clock, TimerHandle } from '../../../core/clock.js';
import type { SimSerialPort } from '../../serial/sim.js';
import { encodePms5003Frame, PMS5003_FRAME_BYTES, type Pms5003Reading } from './frame.js';

export interface SimPms5003Deps {
  readonly clock: Clock;
  /** The device side of the port the sensor is wired to (`simSerial.port('/dev/ttyAMA0')`). */
  readonly port: SimSerialPort;
  /** Frame period; the real sensor's ranges from 200 ms to 2.3 s. Default 1000. */
  readonly periodMs?: number;
}

/** Mass concentrations in µg/m³ (both the CF=1 and the atmospheric words are set to these). */
export interface Pms5003Concentrations {
  readonly pm1_0: number;
  readonly pm2_5: number;
  readonly pm10: number;
}

export class SimPms5003 {
  readonly #clock: Clock;
  readonly #port: SimSerialPort;
  readonly #periodMs: number;
  #reading: Partial<Pms5003Reading> = { reserved: 0x9700 }; // firmware version 0x97, error code 0
  #timer: TimerHandle | undefined;
  #corruptNext = 0;
  #truncateNext = 0;
  #framesSent = 0;

  constructor(deps: SimPms5003Deps) {
    const periodMs = deps.periodMs ?? 1000;
    if (!(periodMs > 0)) throw new TypeError(`periodMs must be > 0, got ${periodMs}`);
    this.#clock = deps.clock;
    this.#port = deps.port;
    this.#periodMs = periodMs;
  }

  /** Frames pushed so far (including corrupted and truncated ones). */
  get framesSent(): number {
    return this.#framesSent;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Sets the air the sensor sees; rounded to whole µg/m³ as the sensor reports them. */
  setConcentrations(c: Pms5003Concentrations): void {
    const pm1_0 = word(c.pm1_0, 'pm1_0');
    const pm2_5 = word(c.pm2_5, 'pm2_5');
    const pm10 = word(c.pm10, 'pm10');
    this.setReading({
      pm1_0Cf1: pm1_0,
      pm2_5Cf1: pm2_5,
      pm10Cf1: pm10,
      pm1_0Atm: pm1_0,
      pm2_5Atm: pm2_5,
      pm10Atm: pm10,
    });
  }

  /** Sets any of the 13 data words directly (integers 0–65535). */
  setReading(values: Partial<Pms5003Reading>): void {
    const next = { ...this.#reading, ...values };
    encodePms5003Frame(next); // validates before anything changes
    this.#reading = next;
  }

  /** Starts pushing frames, the first one period from now (the fan spins up first). Idempotent. */
  start(): void {
    this.#timer ??= this.#clock.setInterval(() => this.sendFrame(), this.#periodMs);
  }

  /** Stops pushing (sensor powered off or put to sleep). Idempotent. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Pushes one frame now, applying any injected fault. */
  sendFrame(): void {
    const frame = encodePms5003Frame(this.#reading);
    this.#framesSent++;
    if (this.#corruptNext > 0) {
      this.#corruptNext--;
      frame[PMS5003_FRAME_BYTES - 1] = (frame[PMS5003_FRAME_BYTES - 1]! + 1) & 0xff;
    }
    if (this.#truncateNext > 0) {
      this.#truncateNext--;
      this.#port.deviceWrite(frame.subarray(0, PMS5003_FRAME_BYTES / 2));
      return;
    }
    this.#port.deviceWrite(frame);
  }

  /** The next `count` frames go out with a wrong check code. */
  corruptNextFrames(count = 1): void {
    this.#corruptNext += count;
  }

  /** The next `count` frames are cut off after half their bytes. */
  truncateNextFrames(count = 1): void {
    this.#truncateNext += count;
  }

  /** Line noise: `bytes` go out now, between frames. */
  injectNoise(bytes: Uint8Array | readonly number[]): void {
    this.#port.deviceWrite(bytes);
  }
}

function word(value: number, name: string): number {
  const rounded = Math.round(value);
  if (!Number.isFinite(value) || rounded < 0 || rounded > 0xffff) {
    throw new RangeError(`${name} must be in 0-65535 µg/m³, got ${String(value)}`);
  }
  return rounded;
}
