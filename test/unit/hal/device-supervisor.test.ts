import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../agent/core/log.js';
import { PointTable, type PointValue } from '../../../agent/core/points.js';
import type { Device, DeviceContext } from '../../../agent/hal/device.js';
import { DeviceAbsentError, DeviceDataError } from '../../../agent/hal/device.js';
import { DeviceSupervisor } from '../../../agent/hal/device-supervisor.js';
import { FakeClock } from '../../support/fake-clock.js';

/** A device whose behaviour the test scripts: present or absent, answering or failing. */
class ScriptedDevice implements Device {
  readonly channels = [
    { channel: 'value', unit: 'Cel' as const },
    { channel: 'out', writable: true },
  ];
  present = true;
  failPolls = false;
  reading = 20;
  opens = 0;
  closes = 0;
  safeStates = 0;
  writes: PointValue[] = [];
  ctx: DeviceContext | undefined;

  async open(ctx: DeviceContext): Promise<void> {
    if (!this.present) throw new DeviceAbsentError('no answer at 0x76');
    this.opens++;
    this.ctx = ctx;
  }
  async poll(): Promise<void> {
    if (!this.present) throw new Error('EREMOTEIO');
    if (this.failPolls) throw new DeviceDataError('bad CRC');
    this.ctx?.publish('value', this.reading);
  }
  async write(_channel: string, value: PointValue): Promise<void> {
    this.writes.push(value);
  }
  async safeState(): Promise<void> {
    this.safeStates++;
  }
  async close(): Promise<void> {
    this.closes++;
  }
}

function setup(options: { faultAfter?: number } = {}) {
  const clock = new FakeClock();
  const points = new PointTable({ clock });
  const device = new ScriptedDevice();
  const supervisor = new DeviceSupervisor(
    { clock, points, log: silentLogger() },
    {
      id: 'chamber',
      device,
      pollMs: 1000,
      pointNames: { value: 'chamber.temp' },
      faultAfter: options.faultAfter ?? 3,
      reopenBaseMs: 1000,
      reopenMaxMs: 8000,
    },
  );
  supervisor.declarePoints();
  return { clock, points, device, supervisor };
}

describe('DeviceSupervisor', () => {
  it('names points from the map or <id>.<channel>, and declares them with units', () => {
    const { supervisor, points } = setup();
    expect(supervisor.pointNames()).toEqual(['chamber.temp', 'chamber.out']);
    expect(points.get('chamber.temp')?.unit).toBe('Cel');
    expect(points.get('chamber.out')?.writable).toBe(true);
  });

  it('opens the device, polls it on its period and publishes good readings', async () => {
    const { clock, points, device, supervisor } = setup();
    supervisor.start();
    await clock.advance(0);
    expect(points.get('chamber.temp')).toMatchObject({ value: 20, quality: 'good', source: 'chamber' });
    device.reading = 21;
    await clock.advance(1000);
    expect(points.goodValue('chamber.temp')).toBe(21);
    expect(supervisor.status()).toMatchObject({ state: 'running', opens: 1, faulted: false });
    await supervisor.stop();
  });

  it('marks points fault after faultAfter consecutive failures, reopens, and recovers by itself', async () => {
    const { clock, points, device, supervisor } = setup({ faultAfter: 3 });
    supervisor.start();
    await clock.advance(0);
    device.failPolls = true;
    await clock.advance(1000);
    await clock.advance(1000);
    expect(points.get('chamber.temp')?.quality).toBe('good');
    await clock.advance(1000);
    expect(points.get('chamber.temp')).toMatchObject({ quality: 'fault', value: 20 });
    expect(device.closes).toBe(1);
    expect(device.safeStates).toBe(1);
    device.failPolls = false;
    device.reading = 22;
    await clock.run(10_000, 100);
    expect(points.get('chamber.temp')).toMatchObject({ quality: 'good', value: 22 });
    expect(supervisor.status()).toMatchObject({ opens: 2, faulted: false, totalFailures: 3 });
    await supervisor.stop();
  });

  it('keeps retrying an absent device with growing delays and never throws', async () => {
    const { clock, device, supervisor, points } = setup();
    device.present = false;
    supervisor.start();
    await clock.run(60_000, 100);
    const failures = supervisor.status().totalFailures;
    expect(failures).toBeGreaterThan(3);
    expect(failures).toBeLessThan(30); // backoff, not a busy loop
    expect(points.get('chamber.temp')?.quality).toBe('fault');
    device.present = true;
    await clock.run(10_000, 100);
    expect(points.get('chamber.temp')?.quality).toBe('good');
    await supervisor.stop();
  });

  it('reopens at once when the driver reports the device lost', async () => {
    const { clock, points, device, supervisor } = setup();
    supervisor.start();
    await clock.advance(0);
    device.ctx?.lost(new Error('port closed'));
    await clock.advance(0);
    expect(points.get('chamber.temp')?.quality).toBe('fault');
    await clock.run(2000, 100);
    expect(device.opens).toBe(2);
    await supervisor.stop();
  });

  it('ignores publishes from a session that was closed', async () => {
    const { clock, points, device, supervisor } = setup();
    supervisor.start();
    await clock.advance(0);
    const stale = device.ctx;
    device.ctx?.lost(new Error('gone'));
    await clock.advance(0);
    stale?.publish('value', 99);
    expect(points.get('chamber.temp')?.value).toBe(20);
    await supervisor.stop();
  });

  it('routes writes to the device while running and refuses them while it is not', async () => {
    const { clock, points, device, supervisor } = setup();
    device.present = false;
    supervisor.start();
    await clock.advance(0);
    await expect(points.write('chamber.out', true, 'test')).rejects.toThrow(/not connected/);
    device.present = true;
    await clock.run(2000, 100);
    await points.write('chamber.out', true, 'test');
    expect(device.writes).toEqual([true]);
    await supervisor.stop();
  });

  it('puts outputs in their safe state and closes on stop, once', async () => {
    const { clock, device, supervisor } = setup();
    supervisor.start();
    await clock.advance(0);
    await supervisor.stop();
    await supervisor.stop();
    expect(device.safeStates).toBe(1);
    expect(device.closes).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });
});
