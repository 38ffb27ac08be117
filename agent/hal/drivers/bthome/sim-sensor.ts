/**
 * A simulated BTHome v2 thermometer on the simulated radio, behaving like the real ones (pvvx / ATC
 * firmware, Shelly BLU H&T): it takes a measurement every `intervalMs` (a new packet, the packet id
 * moves on), and between measurements re-broadcasts the current packet every `advertiseEveryMs` so
 * that a receiver that missed one still hears it — which is what the driver's duplicate filter is
 * for. With a `bindkey` it encrypts, its counter moving on with every packet. Time comes from the
 * injected clock; nothing happens until `start()`.
 */
import type { Clock, TimerHandle } from '../../../core/clock.js';
import { normalizeAddress } from '../../ble/address.js';
import type { SimBle } from '../../ble/sim.js';
import { BTHOME_UUID } from './decode.js';
import { type BthomeObjectValue, encodeBthome } from './encode.js';

export interface SimBthomeSensorDeps {
  readonly clock: Clock;
  readonly ble: SimBle;
  readonly address: string;
  /** Measurement period (a new packet). Default 10 s. */
  readonly intervalMs?: number;
  /** Advertising period (the same packet again). Default 1 s. */
  readonly advertiseEveryMs?: number;
  /** 32 hex digits: encrypt with this key. */
  readonly bindkey?: string;
  readonly localName?: string;
  readonly rssi?: number;
}

/** What the sensor measures; absent fields are not sent. */
export interface SimBthomeReadings {
  readonly temperatureC?: number;
  readonly humidityPct?: number;
  readonly batteryPct?: number;
  readonly pressurePa?: number;
  readonly voltageV?: number;
  readonly windowOpen?: boolean;
}

export class SimBthomeSensor {
  readonly address: string;
  readonly #deps: SimBthomeSensorDeps;
  readonly #bindkey: Uint8Array | undefined;
  #readings: SimBthomeReadings = {};
  #packet: Uint8Array | undefined;
  #packetId = 0;
  #counter = 0;
  #measureTimer: TimerHandle | undefined;
  #advertiseTimer: TimerHandle | undefined;
  #rssi: number;

  constructor(deps: SimBthomeSensorDeps) {
    this.address = normalizeAddress(deps.address, 'address');
    for (const key of ['intervalMs', 'advertiseEveryMs'] as const) {
      const v = deps[key];
      if (v !== undefined && !(v > 0)) throw new TypeError(`${key} must be > 0, got ${v}`);
    }
    if (deps.bindkey !== undefined && !/^[0-9a-f]{32}$/i.test(deps.bindkey)) {
      throw new TypeError('bindkey must be 32 hex digits');
    }
    this.#deps = deps;
    this.#bindkey = deps.bindkey === undefined ? undefined : Buffer.from(deps.bindkey, 'hex');
    this.#rssi = deps.rssi ?? -67;
  }

  /** Sets what the sensor measures; it is sent with the next measurement. */
  set(readings: SimBthomeReadings): void {
    this.#readings = { ...this.#readings, ...readings };
    this.#encode({ ...this.#readings }); // validate now, not inside a timer
  }

  /** The signal strength the receiver will see, dBm. */
  setRssi(rssi: number): void {
    this.#rssi = rssi;
  }

  /** Measures and advertises at once, then on its periods. Idempotent. */
  start(): void {
    if (this.#measureTimer) return;
    const { clock, intervalMs = 10_000, advertiseEveryMs = 1000 } = this.#deps;
    this.measure();
    this.#measureTimer = clock.setInterval(() => this.measure(), intervalMs);
    this.#advertiseTimer = clock.setInterval(() => this.advertise(), advertiseEveryMs);
  }

  /** Stops advertising (battery out, out of range). Idempotent. */
  stop(): void {
    this.#measureTimer?.cancel();
    this.#advertiseTimer?.cancel();
    this.#measureTimer = this.#advertiseTimer = undefined;
  }

  /** Takes a new measurement: a new packet (next packet id, next counter), advertised now. */
  measure(): void {
    this.#packetId = (this.#packetId + 1) & 0xff;
    this.#counter++;
    this.#packet = this.#encode(this.#readings);
    this.advertise();
  }

  /** Broadcasts the current packet once more; returns whether a scanning radio heard it. */
  advertise(): boolean {
    if (!this.#packet) return false;
    return this.#deps.ble.advertise({
      address: this.address,
      rssi: this.#rssi,
      ...(this.#deps.localName ? { localName: this.#deps.localName } : {}),
      serviceData: [{ uuid: BTHOME_UUID, data: this.#packet }],
    });
  }

  #encode(r: SimBthomeReadings): Uint8Array {
    // Ascending object ids, as the format asks.
    const objects: BthomeObjectValue[] = [{ id: 0x00, value: this.#packetId }];
    if (r.batteryPct !== undefined) objects.push({ id: 0x01, value: r.batteryPct });
    if (r.temperatureC !== undefined) objects.push({ id: 0x02, value: r.temperatureC });
    if (r.humidityPct !== undefined) objects.push({ id: 0x03, value: r.humidityPct });
    if (r.pressurePa !== undefined) objects.push({ id: 0x04, value: r.pressurePa });
    if (r.voltageV !== undefined) objects.push({ id: 0x0c, value: r.voltageV });
    if (r.windowOpen !== undefined) objects.push({ id: 0x2d, value: r.windowOpen });
    const encryption = this.#bindkey && {
      bindkey: this.#bindkey,
      address: this.address,
      counter: this.#counter,
    };
    return encodeBthome(objects, encryption ? { encryption } : {});
  }
}
