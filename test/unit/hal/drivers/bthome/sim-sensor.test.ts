import { describe, expect, it } from 'vitest';
import { SimBle } from '../../../../../agent/hal/ble/sim.js';
import type { Advertisement } from '../../../../../agent/hal/ble/types.js';
import { decodeBthome } from '../../../../../agent/hal/drivers/bthome/decode.js';
import { SimBthomeSensor } from '../../../../../agent/hal/drivers/bthome/sim-sensor.js';
import { FakeClock } from '../../../../support/fake-clock.js';

const ADDRESS = 'a4:c1:38:00:00:01';

async function setup(options: { bindkey?: string } = {}) {
  const clock = new FakeClock();
  const ble = new SimBle({ clock });
  const heard: Advertisement[] = [];
  await ble.startScan({ address: ADDRESS }, { advertisement: (a) => heard.push(a) });
  const sensor = new SimBthomeSensor({ clock, ble, address: ADDRESS, intervalMs: 10_000, ...options });
  const packets = () =>
    heard.map((a) => {
      const r = decodeBthome(a.serviceData[0]!.data, {
        address: ADDRESS,
        ...(options.bindkey ? { bindkey: Buffer.from(options.bindkey, 'hex') } : {}),
      });
      if (!r.ok) throw new Error(r.message);
      return r.packet;
    });
  return { clock, sensor, heard, packets };
}

describe('SimBthomeSensor', () => {
  it('advertises nothing until started', async () => {
    const { clock, sensor, heard } = await setup();
    sensor.set({ temperatureC: 20 });
    await clock.advance(30_000);
    expect(heard).toEqual([]);
  });

  it('repeats its packet every second and takes a new one (next packet id) every interval', async () => {
    const { clock, sensor, packets } = await setup();
    sensor.set({ temperatureC: 20, batteryPct: 90 });
    sensor.start();
    await clock.advance(9_500);
    expect(packets().map((p) => p.packetId)).toEqual(Array(10).fill(1));
    sensor.set({ temperatureC: 21 });
    await clock.advance(500);
    const last = packets().at(-1)!;
    expect(last.packetId).toBe(2);
    expect(last.measurements.map((m) => [m.property, m.value])).toEqual([
      ['battery', 90],
      ['temperature', 21],
    ]);
    sensor.stop();
  });

  it('stops all its timers on stop()', async () => {
    const { clock, sensor } = await setup();
    sensor.set({ temperatureC: 20 });
    const before = clock.pendingTimers; // the radio's own housekeeping
    sensor.start();
    sensor.stop();
    expect(clock.pendingTimers).toBe(before);
  });

  it('encrypts with a bindkey, its counter moving on with every measurement', async () => {
    const { clock, sensor, packets } = await setup({ bindkey: '231d39c1d7cc1ab1aee224cd096db932' });
    sensor.set({ humidityPct: 55 });
    sensor.start();
    await clock.advance(10_000);
    const counters = packets().map((p) => p.counter);
    expect(packets().every((p) => p.encrypted)).toBe(true);
    expect(counters[0]).toBe(1);
    expect(counters.at(-1)).toBe(2);
    sensor.stop();
  });

  it('refuses readings that do not fit the format, and bad options, naming them', () => {
    const clock = new FakeClock();
    const ble = new SimBle({ clock });
    const sensor = new SimBthomeSensor({ clock, ble, address: ADDRESS });
    expect(() => sensor.set({ batteryPct: 300 })).toThrow(RangeError);
    expect(() => new SimBthomeSensor({ clock, ble, address: 'nope' })).toThrow(/address/);
    expect(() => new SimBthomeSensor({ clock, ble, address: ADDRESS, intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => new SimBthomeSensor({ clock, ble, address: ADDRESS, bindkey: 'xyz' })).toThrow(/bindkey/);
  });
});
