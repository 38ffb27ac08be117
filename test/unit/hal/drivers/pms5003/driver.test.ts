import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Device, DeviceAbsentError, DeviceDataError } from '../../../../../agent/hal/device.js';
import { type Pms5003Options, pms5003Driver } from '../../../../../agent/hal/drivers/pms5003/driver.js';
import { SimPms5003 } from '../../../../../agent/hal/drivers/pms5003/sim-sensor.js';
import { isSerialError } from '../../../../../agent/hal/serial/errors.js';
import { SimSerial, type SimSerialPort } from '../../../../../agent/hal/serial/sim.js';
import { FakeClock } from '../../../../support/fake-clock.js';
import { onlyBuses } from '../../../../support/only-buses.js';
import { RecordingContext } from '../../../../support/recording-context.js';

const PORT = '/dev/ttyAMA0';

function create(serial: SimSerial, options: Partial<Pms5003Options> = {}): Device {
  return pms5003Driver.create(pms5003Driver.options.parse({ port: PORT, ...options }), onlyBuses({ serial }));
}

describe('pms5003 driver', () => {
  let clock: FakeClock;
  let serial: SimSerial;
  let port: SimSerialPort;
  let sensor: SimPms5003;
  let ctx: RecordingContext;
  let device: Device;

  beforeEach(() => {
    clock = new FakeClock();
    serial = new SimSerial();
    port = serial.port(PORT, { baudRate: 9600 });
    sensor = new SimPms5003({ clock, port });
    sensor.setConcentrations({ pm1_0: 8, pm2_5: 12, pm10: 15 });
    sensor.start();
    ctx = new RecordingContext(clock);
    device = create(serial);
  });

  afterEach(async () => {
    await device.close();
    sensor.stop();
  });

  /** open() waits for the first frame, which comes on the sensor's clock. */
  async function open(): Promise<void> {
    const opening = device.open(ctx);
    await clock.advance(1000);
    await opening;
  }

  it('declares pm1_0, pm2_5 and pm10 in kg/m³ (µg/m³ is a secondary unit), stale after 10 s by default', () => {
    expect(device.channels).toEqual([
      { channel: 'pm1_0', unit: 'kg/m3', staleAfterMs: 10_000 },
      { channel: 'pm2_5', unit: 'kg/m3', staleAfterMs: 10_000 },
      { channel: 'pm10', unit: 'kg/m3', staleAfterMs: 10_000 },
    ]);
  });

  it('validates its options strictly, with 9600 baud by default', () => {
    expect(pms5003Driver.options.parse({ port: PORT })).toMatchObject({ baudRate: 9600 });
    expect(() => pms5003Driver.options.parse({ port: PORT, baud: 9600 })).toThrow();
    expect(() => pms5003Driver.options.parse({ port: '' })).toThrow();
    expect(pms5003Driver.bus).toBe('serial');
  });

  it('opens the port at 9600 baud and publishes each frame the sensor pushes, µg/m³ as kg/m³', async () => {
    await open();
    expect(port.hostBaudRate).toBe(9600);
    expect(ctx.published.map((p) => [p.channel, p.value])).toEqual([
      ['pm1_0', 8e-9],
      ['pm2_5', 1.2e-8],
      ['pm10', 1.5e-8],
    ]);
    sensor.setConcentrations({ pm1_0: 30, pm2_5: 55, pm10: 80 });
    await clock.advance(2000);
    expect(ctx.values('pm2_5')).toEqual([1.2e-8, 5.5e-8, 5.5e-8]);
    expect(ctx.failures).toEqual([]);
  });

  it('publishes the atmospheric concentrations, not the CF=1 ones', async () => {
    sensor.setReading({
      pm1_0Cf1: 100,
      pm2_5Cf1: 150,
      pm10Cf1: 180,
      pm1_0Atm: 70,
      pm2_5Atm: 99,
      pm10Atm: 120,
    });
    await open();
    expect([ctx.last('pm1_0'), ctx.last('pm2_5'), ctx.last('pm10')]).toEqual([7e-8, 9.9e-8, 1.2e-7]);
  });

  it('reports a frame with a bad checksum as a DeviceDataError and keeps reading', async () => {
    await open();
    sensor.corruptNextFrames(1);
    await clock.advance(1000);
    expect(ctx.failures).toHaveLength(1);
    expect(ctx.failures[0]).toBeInstanceOf(DeviceDataError);
    expect(ctx.failures[0]?.message).toMatch(/checksum/);
    await clock.advance(1000);
    expect(ctx.values('pm10')).toHaveLength(2);
  });

  it('skips line noise between frames without calling it a failure', async () => {
    await open();
    sensor.injectNoise([0x00, 0xff, 0x13, 0x37]);
    await clock.advance(1000);
    expect(ctx.failures).toEqual([]);
    expect(ctx.values('pm2_5')).toEqual([1.2e-8, 1.2e-8]);
  });

  it('reports a frame cut short, and reads the next one', async () => {
    await open();
    sensor.truncateNextFrames(1);
    await clock.advance(2000);
    expect(ctx.failures.map((e) => e.constructor)).toEqual([DeviceDataError]);
    expect(ctx.values('pm2_5')).toEqual([1.2e-8, 1.2e-8]);
  });

  it('does not report bad frames while opening: open() itself answers for them', async () => {
    sensor.corruptNextFrames(2);
    const opening = device.open(ctx);
    await clock.advance(3000);
    await opening;
    expect(ctx.failures).toEqual([]);
    expect(ctx.values('pm2_5')).toEqual([1.2e-8]);
  });

  it('reports the device lost when the USB adapter is pulled', async () => {
    await open();
    port.unplug();
    expect(ctx.losses).toHaveLength(1);
    expect(isSerialError(ctx.losses[0], 'EDISCONNECTED')).toBe(true);
  });

  it('rejects open with DeviceAbsentError when the port does not exist', async () => {
    const absent = create(serial, { port: '/dev/ttyUSB7' });
    await expect(absent.open(ctx)).rejects.toBeInstanceOf(DeviceAbsentError);
    await absent.close();
  });

  it('rejects open with DeviceAbsentError when no frame comes, and releases the port', async () => {
    sensor.stop();
    const opening = device.open(ctx);
    const outcome = expect(opening).rejects.toThrow(/no valid frame within 5000 ms/);
    await clock.advance(5000);
    await outcome;
    await expect(opening).rejects.toBeInstanceOf(DeviceAbsentError);
    expect(port.isOpen).toBe(false);
  });

  it('treats a sensor at another baud rate as absent (all it hears is noise)', async () => {
    const fast = create(serial, { baudRate: 115200 });
    const opening = fast.open(ctx);
    const outcome = expect(opening).rejects.toThrow(/no valid frame.*baud rate 115200/);
    await clock.advance(5000);
    await outcome;
    expect(ctx.published).toEqual([]);
  });

  it('fails open with the disconnect when the adapter is pulled while it waits', async () => {
    sensor.stop();
    const opening = device.open(ctx);
    const outcome = expect(opening).rejects.toSatisfy((e) => isSerialError(e, 'EDISCONNECTED'));
    await clock.advance(100);
    port.unplug();
    await outcome;
    expect(ctx.losses).toEqual([]); // told once, by open's rejection
  });

  it('stops waiting when the context is aborted', async () => {
    sensor.stop();
    const opening = device.open(ctx);
    const outcome = expect(opening).rejects.toThrow('closing');
    await clock.advance(100);
    ctx.abort(new Error('closing'));
    await outcome;
    expect(clock.pendingTimers).toBe(0);
  });

  it('close releases the port, is idempotent, and nothing is published afterwards', async () => {
    await open();
    await device.close();
    await device.close();
    expect(port.isOpen).toBe(false);
    const before = ctx.published.length;
    await clock.advance(3000);
    expect(ctx.published).toHaveLength(before);
    expect(ctx.losses).toEqual([]);
  });

  it('opens again after close (the supervisor reopens after a fault)', async () => {
    await open();
    await device.close();
    await open();
    expect(port.isOpen).toBe(true);
  });
});
