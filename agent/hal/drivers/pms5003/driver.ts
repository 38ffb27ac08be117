/**
 * Plantower PMS5003 particulate sensor on a UART (9600 8N1, datasheet V2.3 §"Digital interface").
 * After power-up the sensor is in active mode and pushes a frame by itself — every 200–800 ms while
 * the concentration changes fast, every ~2.3 s while it is stable — so this is a push device: `open`
 * listens, each good frame publishes `pm1_0`, `pm2_5` and `pm10` — the sensor counts in µg/m³, the
 * channels are in kg/m³, SenML's primary unit (µg/m³ is a secondary unit, RFC 8798 §3, which a SenML
 * version 10 pack may not carry): 12 µg/m³ is published as 1.2e-8; once open, a bad checksum
 * is a failure (`ctx.fail`) and a port that closes under us (USB adapter pulled) is `ctx.lost`. Nothing
 * is ever written to the sensor: active mode is its power-up default, and a receive-only driver works
 * with only the sensor's TX wired.
 *
 * Which of the two concentration sets: the datasheet gives CF=1 values (data 1–3, "standard particle",
 * and notes that "CF=1 should be used in the factory environment") and values "under atmospheric
 * environment" (data 4–6). They agree in clean air and the atmospheric ones read lower as the load
 * rises. A gateway measures ambient air, not a factory's, so the channels carry the atmospheric
 * values, as the datasheet's note implies.
 *
 * `open` waits for the first valid frame (up to `firstFrameMs`): an adapter with no sensor behind it,
 * or a sensor at the wrong baud rate, is reported as absent instead of looking open forever.
 */
import { z } from 'zod';
import { type Clock, sleepOn } from '../../../core/clock.js';
import type { Buses } from '../../buses.js';
import type { ChannelDecl, Device, DeviceContext } from '../../device.js';
import { DeviceAbsentError, DeviceDataError } from '../../device.js';
import { isSerialError } from '../../serial/errors.js';
import type { SerialBackend, SerialConnection } from '../../serial/types.js';
import type { DriverFactory } from '../driver-factory.js';
import { Pms5003FrameDecoder, type Pms5003Reading } from './frame.js';

export const pms5003Options = z
  .object({
    /** The UART the sensor's TX is wired to, e.g. `/dev/ttyAMA0` or `/dev/ttyUSB0`. */
    port: z.string().min(1),
    baudRate: z.number().int().positive().default(9600),
    /** Stable mode sends every ~2.3 s; 10 s is four missed frames. */
    staleAfterMs: z.number().int().positive().default(10_000),
    /** How long `open` waits for a first valid frame (the fan spins up within a few seconds). */
    firstFrameMs: z.number().int().positive().default(5_000),
  })
  .strict();

export type Pms5003Options = z.infer<typeof pms5003Options>;

export class Pms5003Device implements Device {
  readonly channels: readonly ChannelDecl[];
  readonly #options: Pms5003Options;
  readonly #serial: SerialBackend;
  #connection: SerialConnection | undefined;

  constructor(options: Pms5003Options, serial: SerialBackend) {
    this.#options = options;
    this.#serial = serial;
    const staleAfterMs = options.staleAfterMs;
    this.channels = [
      { channel: 'pm1_0', unit: 'kg/m3', staleAfterMs },
      { channel: 'pm2_5', unit: 'kg/m3', staleAfterMs },
      { channel: 'pm10', unit: 'kg/m3', staleAfterMs },
    ];
  }

  async open(ctx: DeviceContext): Promise<void> {
    const { port, baudRate, firstFrameMs } = this.#options;
    let connection: SerialConnection;
    try {
      connection = await this.#serial.open({ path: port, baudRate });
    } catch (error) {
      if (isSerialError(error, 'ENOENT')) {
        throw new DeviceAbsentError(`pms5003 on ${port}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    this.#connection = connection;

    // Until open() resolves, trouble is its rejection, not fail()/lost(): the supervisor is still
    // waiting on open and must not be told twice.
    let opened = false;
    const decoder = new Pms5003FrameDecoder();
    const first = deferred();
    connection.onData((chunk) => {
      for (const event of decoder.push(chunk)) {
        if (event.ok) {
          this.#publish(event.reading, ctx);
          first.resolve();
        } else if (opened) {
          ctx.fail(new DeviceDataError(`pms5003 on ${port}: ${event.message}`));
        }
      }
    });
    connection.onClose((error) => {
      if (!error || this.#connection !== connection) return;
      if (opened) ctx.lost(error);
      else first.reject(error);
    });

    try {
      if (!(await waitFor(first.promise, ctx.clock, firstFrameMs, ctx.signal))) {
        const { skippedBytes, badChecksum } = decoder.stats;
        throw new DeviceAbsentError(
          `pms5003 on ${port}: no valid frame within ${firstFrameMs} ms (${skippedBytes} bytes of noise, ` +
            `${badChecksum} bad checksums; check wiring, power and baud rate ${baudRate})`,
        );
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    opened = true;
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close();
  }

  #publish(reading: Pms5003Reading, ctx: DeviceContext): void {
    ctx.publish('pm1_0', kgPerM3(reading.pm1_0Atm));
    ctx.publish('pm2_5', kgPerM3(reading.pm2_5Atm));
    ctx.publish('pm10', kgPerM3(reading.pm10Atm));
  }
}

/** µg/m³ (whole numbers from the sensor) in kg/m³; toPrecision keeps 12 µg/m³ at 1.2e-8 exactly. */
export function kgPerM3(microgramsPerM3: number): number {
  return Number((microgramsPerM3 * 1e-9).toPrecision(15));
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve: () => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // a disconnect after open has nobody waiting on it
  return { promise, resolve, reject };
}

/** Resolves true when `promise` resolves first, false after `timeoutMs`; rejects if either rejects first. */
async function waitFor(
  promise: Promise<void>,
  clock: Clock,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const timer = new AbortController();
  const onAbort = () => timer.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const timeout = sleepOn(clock, timeoutMs, timer.signal).then(() => false);
  // Once the race is decided the timer is cancelled, which rejects `timeout` with nobody left to care.
  timeout.catch(() => undefined);
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    timer.abort();
  }
}

export const pms5003Driver: DriverFactory<Pms5003Options> = {
  driver: 'pms5003',
  bus: 'serial',
  options: pms5003Options,
  create: (options, buses: Buses) => new Pms5003Device(options, buses.serial),
};
