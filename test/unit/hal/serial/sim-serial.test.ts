import { describe, expect, it } from 'vitest';
import { isSerialError } from '../../../../agent/hal/serial/errors.js';
import { SimSerial } from '../../../../agent/hal/serial/sim.js';
import type { SerialConnection } from '../../../../agent/hal/serial/types.js';

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function received(connection: SerialConnection): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  connection.onData((c) => chunks.push(c));
  return chunks;
}

describe('SimSerial device side', () => {
  it('rejects ENOENT for a port nobody made, and opens it once made', async () => {
    const sim = new SimSerial();
    await expect(sim.open({ path: '/dev/ttyUSB0', baudRate: 9600 })).rejects.toSatisfy((e) =>
      isSerialError(e, 'ENOENT'),
    );
    sim.port('/dev/ttyUSB0');
    const c = await sim.open({ path: '/dev/ttyUSB0', baudRate: 9600 });
    expect(c.isOpen).toBe(true);
  });

  it('returns the same device side for the same path', () => {
    const sim = new SimSerial();
    expect(sim.port('/dev/ttyS0')).toBe(sim.port('/dev/ttyS0'));
  });

  it('keeps ports per instance', async () => {
    new SimSerial().port('/dev/ttyS0');
    await expect(new SimSerial().open({ path: '/dev/ttyS0', baudRate: 9600 })).rejects.toSatisfy((e) =>
      isSerialError(e, 'ENOENT'),
    );
  });

  it('shows whether the host has the port open, and at which rate', async () => {
    const sim = new SimSerial();
    const device = sim.port('/dev/ttyS0');
    expect(device.isOpen).toBe(false);
    const c = await sim.open({ path: '/dev/ttyS0', baudRate: 115200 });
    expect(device.isOpen).toBe(true);
    expect(device.hostBaudRate).toBe(115200);
    await c.close();
    expect(device.isOpen).toBe(false);
    expect(device.hostBaudRate).toBeUndefined();
  });

  it('loses bytes sent while the host has the port closed, as a real line does', async () => {
    const sim = new SimSerial();
    const device = sim.port('/dev/ttyS0');
    device.deviceWrite([1, 2, 3]);
    const c = await sim.open({ path: '/dev/ttyS0', baudRate: 9600 });
    const chunks = received(c);
    await settle();
    expect(chunks).toEqual([]);
    device.deviceWrite([4]);
    await settle();
    expect(chunks).toEqual([Uint8Array.of(4)]);
  });

  it('delivers asynchronously, never inside deviceWrite', async () => {
    const sim = new SimSerial();
    const device = sim.port('/dev/ttyS0');
    const chunks = received(await sim.open({ path: '/dev/ttyS0', baudRate: 9600 }));
    device.deviceWrite([7]);
    expect(chunks).toEqual([]);
    await settle();
    expect(chunks).toEqual([Uint8Array.of(7)]);
  });

  it('records host writes as the device sees them (a copy, not the caller buffer)', async () => {
    const sim = new SimSerial();
    const device = sim.port('/dev/ttyS0');
    const seen: Uint8Array[] = [];
    device.onHostWrite((b) => seen.push(b));
    const c = await sim.open({ path: '/dev/ttyS0', baudRate: 9600 });
    const buffer = Uint8Array.of(0x42, 0x4d);
    const write = c.write(buffer);
    buffer[0] = 0;
    await write;
    await c.write(Uint8Array.of(0xe1));
    expect(device.lastWrite).toEqual(Uint8Array.of(0xe1));
    expect(device.writes).toEqual([Uint8Array.of(0x42, 0x4d), Uint8Array.of(0xe1)]);
    expect(seen).toEqual(device.writes);
  });

  it('rejects a write pending when the host closes, with ECLOSED, and it never reaches the device', async () => {
    const sim = new SimSerial();
    const device = sim.port('/dev/ttyS0');
    const c = await sim.open({ path: '/dev/ttyS0', baudRate: 9600 });
    const write = c.write(Uint8Array.of(1));
    await c.close();
    await expect(write).rejects.toSatisfy((e) => isSerialError(e, 'ECLOSED'));
    expect(device.writes).toEqual([]);
  });

  it('unplug closes the host side with EDISCONNECTED, rejects opens with ENOENT until plugged back', async () => {
    const sim = new SimSerial();
    const device = sim.port('/dev/ttyUSB0');
    const c = await sim.open({ path: '/dev/ttyUSB0', baudRate: 9600 });
    const pending = c.write(Uint8Array.of(1));
    const closes: unknown[] = [];
    c.onClose((e) => closes.push(e?.code));
    device.unplug();
    expect(closes).toEqual(['EDISCONNECTED']);
    await expect(pending).rejects.toSatisfy((e) => isSerialError(e, 'EDISCONNECTED'));
    await expect(sim.open({ path: '/dev/ttyUSB0', baudRate: 9600 })).rejects.toSatisfy((e) =>
      isSerialError(e, 'ENOENT'),
    );
    device.plug();
    const again = await sim.open({ path: '/dev/ttyUSB0', baudRate: 9600 });
    expect(again.isOpen).toBe(true);
  });

  it('garbles the bytes both ways when the host opens at a rate other than the device speaks', async () => {
    const sim = new SimSerial();
    const device = sim.port('/dev/ttyS0', { baudRate: 9600 });
    const c = await sim.open({ path: '/dev/ttyS0', baudRate: 115200 });
    const chunks = received(c);
    device.deviceWrite([0x42, 0x4d, 0x00, 0x1c]);
    await c.write(Uint8Array.of(0x42, 0x4d));
    await settle();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).not.toEqual(Uint8Array.of(0x42, 0x4d, 0x00, 0x1c));
    expect(device.lastWrite).not.toEqual(Uint8Array.of(0x42, 0x4d));
  });

  it('speaks clearly to a host at the device rate', async () => {
    const sim = new SimSerial();
    const device = sim.port('/dev/ttyS0', { baudRate: 9600 });
    const chunks = received(await sim.open({ path: '/dev/ttyS0', baudRate: 9600 }));
    device.deviceWrite([0x42, 0x4d]);
    await settle();
    expect(chunks).toEqual([Uint8Array.of(0x42, 0x4d)]);
  });

  it('refuses a bad path or device rate with a TypeError naming it', () => {
    const sim = new SimSerial();
    expect(() => sim.port('')).toThrow(/path/);
    expect(() => sim.port('/dev/ttyS1', { baudRate: -1 })).toThrow(/baudRate/);
  });
});
