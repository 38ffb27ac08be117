/**
 * The serial bus contract (agent/hal/serial/types.ts), run against the simulator always, against the
 * Linux backend over a real pseudo-terminal pair made by socat (the far pty plays the device), and
 * against a real port when HAL_TEST_SERIAL names one with TX wired to RX (a loopback plug).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isSerialError, type SerialError } from '../../agent/hal/serial/errors.js';
import { LinuxSerial } from '../../agent/hal/serial/linux.js';
import { SimSerial } from '../../agent/hal/serial/sim.js';
import type { SerialBackend, SerialConnection } from '../../agent/hal/serial/types.js';
import { concatBytes } from '../support/concat-bytes.js';
import { openPtyPair } from '../support/pty-pair.js';
import { rejection } from '../support/rejection.js';
import { describeWithTools } from '../support/system-tools.js';

interface Harness {
  readonly backend: SerialBackend;
  /** The port the host opens. */
  readonly path: string;
  /** The device end: sends bytes to the host and collects what the host sent. */
  deviceSend(bytes: Uint8Array): Promise<void>;
  deviceReceived(): Uint8Array;
  /** The device disappears (adapter pulled, pty master gone). */
  unplug(): Promise<void>;
  teardown(): Promise<void>;
}

const MISSING = '/dev/ttyNOPE-edge-agent-contract';
const BAUD = 9600;

function collect(connection: SerialConnection): { chunks: Uint8Array[]; bytes: () => Uint8Array } {
  const chunks: Uint8Array[] = [];
  connection.onData((c) => chunks.push(Uint8Array.from(c)));
  return { chunks, bytes: () => concatBytes(chunks) };
}

function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
}

function serialContract(name: string, makeHarness: () => Promise<Harness>): void {
  describe(`serial contract: ${name}`, () => {
    let h: Harness;
    const opened: SerialConnection[] = [];
    const open = async () => {
      const c = await h.backend.open({ path: h.path, baudRate: BAUD });
      opened.push(c);
      return c;
    };

    beforeEach(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((c) => c.close()));
      await h.teardown();
    });

    it('rejects ENOENT for a port that does not exist', async () => {
      const e = await rejection(h.backend.open({ path: MISSING, baudRate: BAUD }));
      expect(isSerialError(e, 'ENOENT')).toBe(true);
      expect((e as SerialError).path).toBe(MISSING);
    });

    it.each([
      ['options.path', { path: '', baudRate: BAUD }],
      ['options.baudRate', { path: MISSING, baudRate: 0 }],
      ['options.baudRate', { path: MISSING, baudRate: 9600.5 }],
      ['options.dataBits', { path: MISSING, baudRate: BAUD, dataBits: 9 }],
      ['options.stopBits', { path: MISSING, baudRate: BAUD, stopBits: 3 }],
      ['options.parity', { path: MISSING, baudRate: BAUD, parity: 'mark' }],
    ])('refuses a bad %s with a TypeError naming it', async (param, options) => {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong options, as JavaScript or YAML could pass
      const e = await rejection(h.backend.open(options as any));
      expect(e).toBeInstanceOf(TypeError);
      expect((e as Error).message).toContain(param);
    });

    it('delivers what the device sends, in order, in whatever chunks it arrives', async () => {
      const host = await open();
      const got = collect(host);
      const parts = [Uint8Array.of(0x42, 0x4d), pattern(30), Uint8Array.of(1, 2, 3)];
      for (const p of parts) await h.deviceSend(p);
      await vi.waitFor(() => expect(got.bytes()).toEqual(concatBytes(parts)), { timeout: 3000 });
    });

    it('delivers a 4 KiB burst complete and in order', async () => {
      const host = await open();
      const got = collect(host);
      const burst = pattern(4096);
      await h.deviceSend(burst);
      await vi.waitFor(() => expect(got.bytes().length).toBe(burst.length), { timeout: 5000 });
      expect(got.bytes()).toEqual(burst);
    });

    it('writes reach the device in call order', async () => {
      const host = await open();
      await Promise.all([host.write(Uint8Array.of(0x42, 0x4d, 0xe1)), host.write(Uint8Array.of(0x00, 0x01))]);
      await vi.waitFor(
        () => expect(h.deviceReceived()).toEqual(Uint8Array.of(0x42, 0x4d, 0xe1, 0x00, 0x01)),
        {
          timeout: 3000,
        },
      );
    });

    it('refuses to write something that is not a Uint8Array', async () => {
      const host = await open();
      // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong type, as JavaScript could pass
      expect(() => host.write('hello' as any)).toThrow(TypeError);
    });

    it('rejects EBUSY for a second open of an open port, and opens again after close', async () => {
      const first = await open();
      const e = await rejection(h.backend.open({ path: h.path, baudRate: BAUD }));
      expect(isSerialError(e, 'EBUSY')).toBe(true);
      await first.close();
      const second = await open();
      expect(second.isOpen).toBe(true);
    });

    it('close() closes: listeners told without an error, later writes rejected ECLOSED, idempotent', async () => {
      const host = await open();
      const closes: (SerialError | undefined)[] = [];
      host.onClose((e) => closes.push(e));
      const got = collect(host);
      await host.close();
      await host.close();
      expect(host.isOpen).toBe(false);
      expect(closes).toEqual([undefined]);
      expect(isSerialError(await rejection(host.write(Uint8Array.of(1))), 'ECLOSED')).toBe(true);
      await h.deviceSend(Uint8Array.of(9, 9, 9)).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
      expect(got.chunks).toEqual([]);
    });

    it('settles a write still pending at close: written, or rejected ECLOSED', async () => {
      const host = await open();
      const write = host.write(pattern(1024)).then(
        () => 'written',
        (e: unknown) => (isSerialError(e, 'ECLOSED') ? 'ECLOSED' : e),
      );
      await host.close();
      expect(['written', 'ECLOSED']).toContain(await write);
    });

    it('closes by itself with EDISCONNECTED when the device disappears', async () => {
      const host = await open();
      const closed = new Promise<SerialError | undefined>((resolve) => host.onClose(resolve));
      await h.unplug();
      const error = await closed;
      expect(error?.code).toBe('EDISCONNECTED');
      expect(host.isOpen).toBe(false);
      expect(isSerialError(await rejection(host.write(Uint8Array.of(1))), 'ECLOSED')).toBe(true);
    });

    it('backend close() closes every connection it opened', async () => {
      const host = await open();
      const closes: (SerialError | undefined)[] = [];
      host.onClose((e) => closes.push(e));
      await h.backend.close();
      expect(host.isOpen).toBe(false);
      expect(closes).toEqual([undefined]);
    });
  });
}

serialContract('SimSerial', async () => {
  const sim = new SimSerial();
  const path = '/dev/ttySIM0';
  const device = sim.port(path);
  return {
    backend: sim,
    path,
    deviceSend: async (bytes) => device.deviceWrite(bytes),
    deviceReceived: () => concatBytes(device.writes),
    unplug: async () => device.unplug(),
    teardown: () => sim.close(),
  };
});

describeWithTools(['socat'], 'over a socat pty pair', () => {
  serialContract('LinuxSerial (pty)', async () => {
    const pair = await openPtyPair();
    const backend = new LinuxSerial();
    // The far end is opened with a second backend, as a separate program would.
    const deviceSide = new LinuxSerial();
    const device = await deviceSide.open({ path: pair.paths[1], baudRate: BAUD });
    const received = collect(device);
    return {
      backend,
      path: pair.paths[0],
      deviceSend: (bytes) => device.write(bytes),
      deviceReceived: received.bytes,
      unplug: () => pair.close(),
      teardown: async () => {
        await backend.close();
        await deviceSide.close();
        await pair.close();
      },
    };
  });
});

const LOOPBACK = process.env.HAL_TEST_SERIAL;

describe.skipIf(!LOOPBACK)(
  `serial contract: LinuxSerial on ${LOOPBACK ?? 'HAL_TEST_SERIAL'} (TX wired to RX)`,
  () => {
    const backend = new LinuxSerial();
    afterEach(() => backend.close());

    it('reads back what it writes', async () => {
      const port = await backend.open({ path: LOOPBACK!, baudRate: 115200 });
      const got = collect(port);
      const bytes = pattern(256);
      await port.write(bytes);
      await vi.waitFor(() => expect(got.bytes()).toEqual(bytes), { timeout: 3000 });
    });

    it('rejects EBUSY for a second open and closes cleanly', async () => {
      const port = await backend.open({ path: LOOPBACK!, baudRate: 115200 });
      expect(
        isSerialError(await rejection(backend.open({ path: LOOPBACK!, baudRate: 115200 })), 'EBUSY'),
      ).toBe(true);
      await port.close();
      expect(port.isOpen).toBe(false);
    });
  },
);
