/**
 * A BTHome v2 sensor (https://bthome.io): a thermometer, door contact or button that broadcasts its
 * readings in BLE advertisements — no connection, no pairing. A push device: `open` joins the shared
 * scan for the sensor's address, each new packet publishes the channels the profile asked for
 * (default temperature, humidity, battery; any BTHome property, plus `rssi`), and losing the adapter
 * is `ctx.lost`. `open` does not wait for a first packet: a trigger-based sensor may be silent for
 * hours, so absence shows as staleness (`staleAfterMs`, default 5 min) rather than as a failed open.
 *
 * Sensors repeat each packet several times so that one gets through; a repeat carries the same packet
 * id (object 0x00), and is dropped when it arrives within 4 s of the packet it repeats (the reference
 * receiver's window: a sensor whose id only moves when its values do is not silenced for good).
 * Encrypted sensors (`bindkey`) are authenticated, their counter must move forward (a lower one is a
 * replay, unless it is below 100: the sensor restarted), and plaintext from them is refused.
 *
 * A packet that cannot be read at all is a failure (`ctx.fail`: wrong key, wrong version). One that
 * ends in an object id this table does not know publishes what came before it and is logged once per
 * id, not failed — a firmware update that adds a new object must not fault a working sensor.
 */
import { z } from 'zod';
import type { SenmlUnit } from '../../../core/senml-units.js';
import type { Advertisement, BleBackend, BleScan } from '../../ble/types.js';
import type { Buses } from '../../buses.js';
import type { ChannelDecl, Device, DeviceContext } from '../../device.js';
import { DeviceDataError } from '../../device.js';
import type { DriverFactory } from '../driver-factory.js';
import { BTHOME_UUID, type BthomePacket, decodeBthome } from './decode.js';
import { BTHOME_OBJECTS } from './objects.js';

/**
 * Channel → unit, for every property in the object table, plus the signal strength: radios report it
 * in dBm, a secondary unit (RFC 8798 §3), so it is published in the primary dBW (dBm − 30).
 */
const KNOWN_CHANNELS: ReadonlyMap<string, SenmlUnit | undefined> = new Map([
  ...[...BTHOME_OBJECTS.values()]
    .filter((spec) => spec.id !== 0x00)
    .map((spec) => [spec.property, spec.unit] as const),
  ['rssi', 'dBW'],
]);
const DBM_IN_DBW = -30;
/** Event channels report happenings, not a state that could go stale. */
const EVENT_CHANNELS = new Set(['button', 'dimmer']);
const DUPLICATE_WINDOW_MS = 4000;
/** A counter this low after a higher one is a sensor that restarted, not a replay (reference receiver's rule). */
const COUNTER_RESTART_BELOW = 100;

/** `temperature`, or `temperature_2` for the second temperature object in one packet. */
function baseChannel(name: string): string {
  return KNOWN_CHANNELS.has(name) ? name : name.replace(/_\d+$/, '');
}

export const bthomeOptions = z
  .object({
    /** The sensor's MAC address, any case. */
    address: z
      .string()
      .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i, 'must be a MAC address like a4:c1:38:00:00:01')
      .transform((a) => a.toLowerCase()),
    /** The sensor's AES key as 32 hex digits, for sensors that encrypt. */
    bindkey: z
      .string()
      .regex(/^[0-9a-f]{32}$/i, 'must be 32 hex digits')
      .optional(),
    channels: z
      .array(z.string().refine((c) => KNOWN_CHANNELS.has(baseChannel(c)), 'is not a BTHome property or rssi'))
      .min(1)
      .default(['temperature', 'humidity', 'battery']),
    /** Periodic sensors send every 10 s – 1 min; five minutes of silence means it is gone. */
    staleAfterMs: z.number().int().positive().default(300_000),
  })
  .strict();

export type BthomeOptions = z.infer<typeof bthomeOptions>;

export class BthomeDevice implements Device {
  readonly channels: readonly ChannelDecl[];
  readonly #options: BthomeOptions;
  readonly #ble: BleBackend;
  readonly #bindkey: Uint8Array | undefined;
  readonly #wanted: ReadonlySet<string>;
  readonly #unknownLogged = new Set<number>();
  #scan: BleScan | undefined;
  #lastPacketId: number | undefined;
  #lastPacketMs = Number.NEGATIVE_INFINITY;
  #lastCounter: number | undefined;

  constructor(options: BthomeOptions, ble: BleBackend) {
    this.#options = options;
    this.#ble = ble;
    this.#bindkey = options.bindkey === undefined ? undefined : Buffer.from(options.bindkey, 'hex');
    this.#wanted = new Set(options.channels);
    this.channels = options.channels.map((channel) => {
      const unit = KNOWN_CHANNELS.get(baseChannel(channel));
      const staleAfterMs = EVENT_CHANNELS.has(baseChannel(channel)) ? undefined : options.staleAfterMs;
      return { channel, ...(unit ? { unit } : {}), ...(staleAfterMs ? { staleAfterMs } : {}) };
    });
  }

  async open(ctx: DeviceContext): Promise<void> {
    this.#scan = await this.#ble.startScan(
      { address: this.#options.address },
      {
        advertisement: (a) => this.#onAdvertisement(a, ctx),
        ended: (error) => ctx.lost(error),
      },
    );
  }

  async close(): Promise<void> {
    const scan = this.#scan;
    this.#scan = undefined;
    await scan?.stop();
  }

  #onAdvertisement(advertisement: Advertisement, ctx: DeviceContext): void {
    const data = advertisement.serviceData.find((s) => s.uuid === BTHOME_UUID)?.data;
    if (!data) return; // a scan response with only the name, or another service
    const where = `bthome ${this.#options.address}`;
    const result = decodeBthome(data, { address: this.#options.address, bindkey: this.#bindkey });
    if (!result.ok) {
      ctx.fail(new DeviceDataError(`${where}: ${result.message}`));
      return;
    }
    const packet = result.packet;
    const nowMs = ctx.clock.monotonicMs();
    if (this.#isRepeat(packet, nowMs)) return;
    if (this.#isReplay(packet)) {
      ctx.fail(
        new DeviceDataError(
          `${where}: encryption counter went back from ${this.#lastCounter} to ${packet.counter} (replay?)`,
        ),
      );
      return;
    }
    if (packet.packetId !== undefined) {
      this.#lastPacketId = packet.packetId;
      this.#lastPacketMs = nowMs;
    }
    if (packet.counter !== undefined) this.#lastCounter = packet.counter;

    if (packet.stopped && packet.measurements.length === 0) {
      ctx.fail(new DeviceDataError(`${where}: nothing readable: ${describeStop(packet)}`));
      return;
    }
    for (const m of packet.measurements) {
      if (this.#wanted.has(m.property)) ctx.publish(m.property, m.value);
    }
    if (this.#wanted.has('rssi')) ctx.publish('rssi', advertisement.rssi + DBM_IN_DBW);
    if (packet.stopped && !this.#unknownLogged.has(packet.stopped.objectId)) {
      this.#unknownLogged.add(packet.stopped.objectId);
      ctx.log.warn(
        { device: where, objectId: packet.stopped.objectId, reason: packet.stopped.reason },
        `${where}: ${describeStop(packet)}; the rest of such packets is skipped`,
      );
    }
  }

  /** A copy of a packet already taken: the same counter, or the same packet id within the window. */
  #isRepeat(packet: BthomePacket, nowMs: number): boolean {
    if (packet.counter !== undefined && packet.counter === this.#lastCounter) return true;
    return (
      packet.packetId !== undefined &&
      packet.packetId === this.#lastPacketId &&
      nowMs - this.#lastPacketMs < DUPLICATE_WINDOW_MS
    );
  }

  #isReplay(packet: BthomePacket): boolean {
    return (
      packet.counter !== undefined &&
      this.#lastCounter !== undefined &&
      packet.counter < this.#lastCounter &&
      packet.counter >= COUNTER_RESTART_BELOW
    );
  }
}

function describeStop(packet: BthomePacket): string {
  const stop = packet.stopped!;
  const id = `0x${stop.objectId.toString(16).padStart(2, '0')}`;
  return `${stop.reason === 'unknown-object' ? 'unknown' : 'truncated'} object ${id} at offset ${stop.offset}`;
}

export const bthomeDriver: DriverFactory<BthomeOptions> = {
  driver: 'bthome',
  bus: 'ble',
  options: bthomeOptions,
  create: (options, buses: Buses) => new BthomeDevice(options, buses.ble),
};
