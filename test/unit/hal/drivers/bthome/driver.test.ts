import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../../agent/core/log.js';
import { isSenmlUnit } from '../../../../../agent/core/senml-units.js';
import { isBleUnavailable } from '../../../../../agent/hal/ble/errors.js';
import { SimBle } from '../../../../../agent/hal/ble/sim.js';
import { type Device, DeviceDataError } from '../../../../../agent/hal/device.js';
import { type BthomeOptions, bthomeDriver } from '../../../../../agent/hal/drivers/bthome/driver.js';
import { type BthomeObjectValue, encodeBthome } from '../../../../../agent/hal/drivers/bthome/encode.js';
import { BTHOME_OBJECTS } from '../../../../../agent/hal/drivers/bthome/objects.js';
import { SimBthomeSensor } from '../../../../../agent/hal/drivers/bthome/sim-sensor.js';
import { FakeClock } from '../../../../support/fake-clock.js';
import { onlyBuses } from '../../../../support/only-buses.js';
import { RecordingContext } from '../../../../support/recording-context.js';

const ADDRESS = 'a4:c1:38:00:00:01';
const KEY = '231d39c1d7cc1ab1aee224cd096db932';

function create(ble: SimBle, options: Partial<Record<keyof BthomeOptions, unknown>> = {}): Device {
  const parsed = bthomeDriver.options.parse({ address: ADDRESS.toUpperCase(), ...options });
  return bthomeDriver.create(parsed, onlyBuses({ ble }));
}

describe('bthome driver', () => {
  let clock: FakeClock;
  let ble: SimBle;
  let ctx: RecordingContext;
  let device: Device;

  beforeEach(() => {
    clock = new FakeClock();
    ble = new SimBle({ clock });
    ctx = new RecordingContext(clock);
    device = create(ble);
  });

  afterEach(() => device.close());

  /** A packet straight onto the air from the sensor's address. */
  async function send(
    objects: BthomeObjectValue[],
    options: Parameters<typeof encodeBthome>[1] = {},
  ): Promise<void> {
    ble.advertise({
      address: ADDRESS,
      rssi: -70,
      serviceData: [{ uuid: 'fcd2', data: encodeBthome(objects, options) }],
    });
    await clock.advance(0);
  }

  it('declares temperature, humidity and battery by default, stale after 5 min', () => {
    expect(device.channels).toEqual([
      { channel: 'temperature', unit: 'Cel', staleAfterMs: 300_000 },
      { channel: 'humidity', unit: '%RH', staleAfterMs: 300_000 },
      { channel: 'battery', unit: '%EL', staleAfterMs: 300_000 },
    ]);
  });

  it('declares asked-for channels with their units; events never go stale', () => {
    const d = create(ble, {
      channels: ['pressure', 'window', 'button', 'rssi', 'temperature_2'],
      staleAfterMs: 60_000,
    });
    expect(d.channels).toEqual([
      { channel: 'pressure', unit: 'Pa', staleAfterMs: 60_000 },
      { channel: 'window', staleAfterMs: 60_000 },
      { channel: 'button' },
      { channel: 'rssi', unit: 'dBW', staleAfterMs: 60_000 },
      { channel: 'temperature_2', unit: 'Cel', staleAfterMs: 60_000 },
    ]);
  });

  it('validates its options strictly and lowercases the address', () => {
    const parse = (o: unknown) => bthomeDriver.options.safeParse(o);
    expect(parse({ address: 'A4:C1:38:00:00:01' })).toMatchObject({
      success: true,
      data: { address: ADDRESS },
    });
    expect(parse({ address: 'a4:c1:38' }).success).toBe(false);
    expect(parse({ address: ADDRESS, bindkey: 'abc' }).success).toBe(false);
    expect(parse({ address: ADDRESS, channels: ['flux_capacitor'] }).success).toBe(false);
    expect(parse({ address: ADDRESS, mac: ADDRESS }).success).toBe(false);
    expect(bthomeDriver.bus).toBe('ble');
  });

  it('publishes what a simulated thermometer advertises, on the clock', async () => {
    const sensor = new SimBthomeSensor({ clock, ble, address: ADDRESS, intervalMs: 10_000 });
    sensor.set({ temperatureC: 8.25, humidityPct: 71.5, batteryPct: 93 });
    await device.open(ctx);
    sensor.start();
    await clock.advance(0);
    // in object-id order, as the sensor sends them
    expect(ctx.published.map((p) => [p.channel, p.value])).toEqual([
      ['battery', 93],
      ['temperature', 8.25],
      ['humidity', 71.5],
    ]);
    sensor.set({ temperatureC: -3.5 });
    await clock.advance(10_000);
    expect(ctx.last('temperature')).toBe(-3.5);
    expect(ctx.failures).toEqual([]);
    sensor.stop();
  });

  it('drops the repeats of a packet (same packet id within 4 s), takes it again after', async () => {
    await device.open(ctx);
    const packet = [
      { id: 0x00, value: 7 },
      { id: 0x02, value: 21.5 },
    ];
    await send(packet);
    await clock.advance(1000);
    await send(packet);
    await clock.advance(1000);
    await send(packet);
    expect(ctx.values('temperature')).toEqual([21.5]);
    await clock.advance(2500);
    await send(packet);
    expect(ctx.values('temperature')).toEqual([21.5, 21.5]);
    await send([
      { id: 0x00, value: 8 },
      { id: 0x02, value: 21.75 },
    ]);
    expect(ctx.values('temperature')).toEqual([21.5, 21.5, 21.75]);
  });

  it('ignores advertisements from other addresses and without BTHome data', async () => {
    await device.open(ctx);
    ble.advertise({
      address: 'a4:c1:38:00:00:02',
      serviceData: [{ uuid: 'fcd2', data: encodeBthome([{ id: 0x02, value: 1 }]) }],
    });
    ble.advertise({ address: ADDRESS, localName: 'ATC_000001' });
    ble.advertise({ address: ADDRESS, serviceData: [{ uuid: '181a', data: Uint8Array.of(1, 2, 3) }] });
    await clock.advance(0);
    expect(ctx.published).toEqual([]);
    expect(ctx.failures).toEqual([]);
  });

  it('publishes the signal strength when asked for rssi, in dBW (dBm is a secondary unit)', async () => {
    device = create(ble, { channels: ['temperature', 'rssi'] });
    await device.open(ctx);
    await send([{ id: 0x02, value: 20 }]);
    expect(ctx.last('rssi')).toBe(-100); // -70 dBm
  });

  it('declares every channel it can publish in a primary SenML unit a producer may use, or none', () => {
    const properties = [...new Set([...BTHOME_OBJECTS.values()].map((spec) => spec.property))];
    const all = create(ble, { channels: [...properties.filter((p) => p !== 'packet_id'), 'rssi'] });
    for (const { channel, unit } of all.channels) {
      if (unit !== undefined) expect(isSenmlUnit(unit), `${channel}: ${unit}`).toBe(true);
    }
  });

  it('publishes a pressure sent in hPa in Pa (BTHome 0x04: 1008.83 hPa is 100883 Pa)', async () => {
    device = create(ble, { channels: ['pressure'] });
    await device.open(ctx);
    ble.advertise({
      address: ADDRESS,
      serviceData: [{ uuid: 'fcd2', data: Uint8Array.of(0x40, 0x04, 0x13, 0x8a, 0x01) }],
    });
    await clock.advance(0);
    expect(ctx.last('pressure')).toBe(100883);
  });

  it('reports an unreadable packet as a DeviceDataError', async () => {
    await device.open(ctx);
    ble.advertise({
      address: ADDRESS,
      serviceData: [{ uuid: 'fcd2', data: Uint8Array.of(0x20, 0x02, 0xca, 0x09) }],
    });
    await clock.advance(0);
    expect(ctx.failures).toHaveLength(1);
    expect(ctx.failures[0]).toBeInstanceOf(DeviceDataError);
    expect(ctx.failures[0]?.message).toMatch(/version 1/);
  });

  it('publishes the objects before an unknown one and warns once, without failing', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    ctx = new RecordingContext(clock, createLogger({ destination: sink, pretty: false, level: 'warn' }));
    await device.open(ctx);
    const data = Uint8Array.from([
      ...encodeBthome([
        { id: 0x00, value: 1 },
        { id: 0x02, value: 19 },
      ]),
      0xfe,
      0x01,
    ]);
    ble.advertise({ address: ADDRESS, serviceData: [{ uuid: 'fcd2', data }] });
    await clock.advance(5000);
    data[2] = 2; // next packet id
    ble.advertise({ address: ADDRESS, serviceData: [{ uuid: 'fcd2', data }] });
    await clock.advance(0);
    expect(ctx.values('temperature')).toEqual([19, 19]);
    expect(ctx.failures).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', objectId: 0xfe, reason: 'unknown-object' });
  });

  it('fails a packet whose first object is unknown: nothing could be read', async () => {
    await device.open(ctx);
    ble.advertise({
      address: ADDRESS,
      serviceData: [{ uuid: 'fcd2', data: Uint8Array.of(0x40, 0xfe, 0xca, 0x09) }],
    });
    await clock.advance(0);
    expect(ctx.failures.map((e) => e.message)).toEqual([expect.stringMatching(/unknown object 0xfe/)]);
  });

  describe('with a bindkey', () => {
    beforeEach(() => {
      device = create(ble, { bindkey: KEY });
    });
    const encryption = (counter: number) => ({
      encryption: { bindkey: Buffer.from(KEY, 'hex'), address: ADDRESS, counter },
    });

    it('decrypts an encrypted sensor', async () => {
      const sensor = new SimBthomeSensor({ clock, ble, address: ADDRESS, bindkey: KEY });
      sensor.set({ temperatureC: 25.06, humidityPct: 50.55 });
      await device.open(ctx);
      sensor.start();
      await clock.advance(0);
      expect([ctx.last('temperature'), ctx.last('humidity')]).toEqual([25.06, 50.55]);
      sensor.stop();
    });

    it('refuses plaintext from it (a downgrade) and a packet under the wrong key', async () => {
      await device.open(ctx);
      await send([{ id: 0x02, value: 99 }]);
      await send([{ id: 0x02, value: 99 }], {
        encryption: { bindkey: Buffer.alloc(16, 7), address: ADDRESS, counter: 5 },
      });
      expect(ctx.published).toEqual([]);
      expect(ctx.failures.map((e) => e.message)).toEqual([
        expect.stringMatching(/plaintext/),
        expect.stringMatching(/authentication/),
      ]);
    });

    it('drops a repeated counter and fails a counter that goes back (replay)', async () => {
      await device.open(ctx);
      await send([{ id: 0x02, value: 20 }], encryption(1000));
      await send([{ id: 0x02, value: 20 }], encryption(1000));
      await send([{ id: 0x02, value: 30 }], encryption(500));
      expect(ctx.values('temperature')).toEqual([20]);
      expect(ctx.failures.map((e) => e.message)).toEqual([
        expect.stringMatching(/went back from 1000 to 500/),
      ]);
    });

    it('accepts a counter that restarted from zero (battery change)', async () => {
      await device.open(ctx);
      await send([{ id: 0x02, value: 20 }], encryption(0xffffffff));
      await send([{ id: 0x02, value: 21 }], encryption(0));
      expect(ctx.values('temperature')).toEqual([20, 21]);
    });
  });

  it('reports the device lost when the adapter is switched off', async () => {
    await device.open(ctx);
    ble.setAdapterState('poweredOff');
    await clock.advance(0);
    expect(ctx.losses).toHaveLength(1);
    expect(isBleUnavailable(ctx.losses[0]) && ctx.losses[0].reason).toBe('powered-off');
  });

  it('rejects open with BleUnavailableError when there is no usable adapter', async () => {
    const noRadio = new SimBle({ clock, state: 'unsupported' });
    const d = create(noRadio);
    await expect(d.open(ctx)).rejects.toSatisfy(isBleUnavailable);
    await d.close();
  });

  it('close leaves the scan, so the radio stops; nothing is published afterwards; idempotent', async () => {
    await device.open(ctx);
    expect(ble.scanning).toBe(true);
    await device.close();
    await device.close();
    expect(ble.scanning).toBe(false);
    await send([{ id: 0x02, value: 5 }]);
    expect(ctx.published).toEqual([]);
  });
});
