/**
 * The PMS5003 driver over the real Linux serial backend: `serialport` opens one end of a socat pty
 * pair at 9600 baud, and the test plays the sensor by writing frames into the other end with plain
 * file I/O — whole, split mid-frame, corrupted — then kills socat as if the USB adapter were pulled.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { SystemClock } from '../../../../../agent/core/clock.js';
import { type Device, DeviceDataError } from '../../../../../agent/hal/device.js';
import { pms5003Driver } from '../../../../../agent/hal/drivers/pms5003/driver.js';
import { encodePms5003Frame } from '../../../../../agent/hal/drivers/pms5003/frame.js';
import { isSerialError } from '../../../../../agent/hal/serial/errors.js';
import { LinuxSerial } from '../../../../../agent/hal/serial/linux.js';
import { onlyBuses } from '../../../../support/only-buses.js';
import { openPtyPair, type PtyPair } from '../../../../support/pty-pair.js';
import { RecordingContext } from '../../../../support/recording-context.js';
import { describeWithTools } from '../../../../support/system-tools.js';

describeWithTools(['socat'], 'pms5003 driver over a pty (socat)', () => {
  let pair: PtyPair;
  let serial: LinuxSerial;
  let sensorEnd: FileHandle;
  let device: Device;
  let ctx: RecordingContext;

  beforeEach(async () => {
    pair = await openPtyPair();
    serial = new LinuxSerial();
    sensorEnd = await open(pair.paths[1], 'r+');
    ctx = new RecordingContext(new SystemClock());
    const options = pms5003Driver.options.parse({ port: pair.paths[0], firstFrameMs: 3000 });
    device = pms5003Driver.create(options, onlyBuses({ serial }));
  });

  afterEach(async () => {
    await device.close();
    await sensorEnd.close();
    await pair.close();
  });

  const frame = (pm2_5: number) =>
    encodePms5003Frame({ pm1_0Atm: pm2_5 - 3, pm2_5Atm: pm2_5, pm10Atm: pm2_5 + 4, reserved: 0x9700 });

  async function sendWhileOpening(): Promise<void> {
    // The sensor pushes regardless of who listens; keep sending until open() has seen a frame.
    const opening = device.open(ctx);
    let done = false;
    const finished = () => {
      done = true;
    };
    opening.then(finished, finished);
    while (!done) {
      await sensorEnd.write(frame(12));
      await new Promise((r) => setTimeout(r, 50));
    }
    await opening;
  }

  it('publishes the atmospheric concentrations of frames written to the far end', async () => {
    await sendWhileOpening();
    expect(ctx.last('pm2_5')).toBe(1.2e-8); // 12 µg/m³
    await sensorEnd.write(frame(40));
    await vi.waitFor(() => expect(ctx.last('pm2_5')).toBe(4e-8), { timeout: 3000 });
    expect([ctx.last('pm1_0'), ctx.last('pm10')]).toEqual([3.7e-8, 4.4e-8]); // 37, 44 µg/m³
    expect(ctx.failures).toEqual([]);
  });

  it('reassembles a frame written in two parts with a pause between', async () => {
    await sendWhileOpening();
    const f = frame(77);
    await sensorEnd.write(Uint8Array.from([0x00, 0x13, ...f.subarray(0, 11)]));
    await new Promise((r) => setTimeout(r, 100));
    await sensorEnd.write(f.subarray(11));
    await vi.waitFor(() => expect(ctx.last('pm2_5')).toBe(7.7e-8), { timeout: 3000 });
    expect(ctx.failures).toEqual([]);
  });

  it('reports a corrupted frame as a DeviceDataError', async () => {
    await sendWhileOpening();
    const bad = frame(50);
    bad[31] = bad[31]! ^ 0xff;
    await sensorEnd.write(bad);
    await vi.waitFor(() => expect(ctx.failures).toHaveLength(1), { timeout: 3000 });
    expect(ctx.failures[0]).toBeInstanceOf(DeviceDataError);
  });

  it('reports the device lost when the line goes away', async () => {
    await sendWhileOpening();
    await pair.close();
    await vi.waitFor(() => expect(ctx.losses).toHaveLength(1), { timeout: 3000 });
    expect(isSerialError(ctx.losses[0], 'EDISCONNECTED')).toBe(true);
  });
});
