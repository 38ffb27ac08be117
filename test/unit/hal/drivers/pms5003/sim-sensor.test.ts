import { describe, expect, it } from 'vitest';
import { Pms5003FrameDecoder } from '../../../../../agent/hal/drivers/pms5003/frame.js';
import { SimPms5003 } from '../../../../../agent/hal/drivers/pms5003/sim-sensor.js';
import { SimSerial } from '../../../../../agent/hal/serial/sim.js';
import { FakeClock } from '../../../../support/fake-clock.js';

async function setup(periodMs?: number) {
  const clock = new FakeClock();
  const serial = new SimSerial();
  const sensor = new SimPms5003({
    clock,
    port: serial.port('/dev/ttyS0'),
    ...(periodMs ? { periodMs } : {}),
  });
  const host = await serial.open({ path: '/dev/ttyS0', baudRate: 9600 });
  const decoder = new Pms5003FrameDecoder();
  const events: ReturnType<Pms5003FrameDecoder['push']> = [];
  host.onData((c) => events.push(...decoder.push(c)));
  return { clock, sensor, events, decoder };
}

describe('SimPms5003', () => {
  it('pushes one valid frame per period once started, with the concentrations set', async () => {
    const { clock, sensor, events } = await setup();
    sensor.setConcentrations({ pm1_0: 5, pm2_5: 12.4, pm10: 20 });
    await clock.advance(3000);
    expect(events).toEqual([]);
    sensor.start();
    await clock.advance(3000);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({
      ok: true,
      reading: { pm1_0Atm: 5, pm2_5Atm: 12, pm10Atm: 20, pm2_5Cf1: 12 },
    });
    expect(sensor.framesSent).toBe(3);
    sensor.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('follows its period', async () => {
    const { clock, sensor, events } = await setup(250);
    sensor.start();
    await clock.advance(1000);
    expect(events).toHaveLength(4);
    sensor.stop();
  });

  it('injects the faults of a real line: a bad checksum, a cut frame, noise', async () => {
    const { clock, sensor, events, decoder } = await setup();
    sensor.start();
    sensor.corruptNextFrames(1);
    await clock.advance(1000);
    sensor.truncateNextFrames(1);
    await clock.advance(2000);
    sensor.injectNoise([0x00, 0x01, 0x02]);
    await clock.advance(1000);
    expect(events.map((e) => (e.ok ? 'frame' : e.reason))).toEqual([
      'checksum',
      'checksum',
      'frame',
      'frame',
    ]);
    expect(decoder.stats.skippedBytes).toBeGreaterThanOrEqual(3);
    sensor.stop();
  });

  it('refuses concentrations a frame cannot carry, naming them', async () => {
    const { sensor } = await setup();
    expect(() => sensor.setConcentrations({ pm1_0: 1, pm2_5: -1, pm10: 1 })).toThrow(/pm2_5/);
    expect(() => sensor.setReading({ particles0_3: 70_000 })).toThrow(/particles0_3/);
  });
});
