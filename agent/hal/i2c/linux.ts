/**
 * The I²C bus on Linux, over `i2c-bus`'s promise API (i2c-dev ioctls run on libuv's thread pool).
 * `i2c-bus` is imported inside `open`, so importing this module on a laptop loads no native code.
 *
 * Two things `i2c-bus` leaves to us: it opens `/dev/i2c-N` only at the first transaction, so `open`
 * checks the node itself to fail early with a useful message; and its `close` does not stop later
 * calls from using the closed file descriptors (which the kernel may already have handed to someone
 * else), so each handle tracks its own state and waits for in-flight transactions before closing.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { PromisifiedBus } from 'i2c-bus';
import {
  checkAddress,
  checkBusNumber,
  checkByte,
  checkBytes,
  checkLength,
  I2C_BLOCK_MAX,
  I2C_RAW_MAX,
} from './check-args.js';
import { formatAddress, I2cError } from './errors.js';
import type { I2cBackend, I2cBus } from './types.js';

const OPEN_HINTS: Record<string, string> = {
  ENOENT: 'no such adapter (enable it with dtparam=i2c_arm=on in config.txt, or check the bus number)',
  EACCES: 'permission denied (add the service user to group i2c)',
};

export class LinuxI2c implements I2cBackend {
  readonly kind = 'linux';
  readonly #handles = new Set<LinuxI2cBus>();

  async open(busNumber: number): Promise<I2cBus> {
    checkBusNumber(busNumber);
    const path = `/dev/i2c-${busNumber}`;
    try {
      await access(path, constants.R_OK | constants.W_OK);
    } catch (e) {
      const code = errnoCode(e) ?? 'ENOENT';
      throw new I2cError(
        code,
        `cannot open ${path}: ${OPEN_HINTS[code] ?? code}`,
        { busNumber },
        { cause: e },
      );
    }
    const { openPromisified } = await import('i2c-bus');
    const handle = new LinuxI2cBus(busNumber, await openPromisified(busNumber), (h) =>
      this.#handles.delete(h),
    );
    this.#handles.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#handles].map((h) => h.close()));
  }
}

class LinuxI2cBus implements I2cBus {
  readonly busNumber: number;
  readonly #raw: PromisifiedBus;
  readonly #onClosed: (handle: LinuxI2cBus) => void;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(busNumber: number, raw: PromisifiedBus, onClosed: (handle: LinuxI2cBus) => void) {
    this.busNumber = busNumber;
    this.#raw = raw;
    this.#onClosed = onClosed;
  }

  get isOpen(): boolean {
    return this.#closing === undefined;
  }

  async readByte(address: number, cmd: number): Promise<number> {
    checkAddress(address);
    checkByte('cmd', cmd);
    return this.#run(address, 'readByte', () => this.#raw.readByte(address, cmd));
  }

  async readBlock(address: number, cmd: number, length: number): Promise<Uint8Array> {
    checkAddress(address);
    checkByte('cmd', cmd);
    checkLength(length, I2C_BLOCK_MAX);
    return this.#run(address, 'readBlock', async () => {
      const { bytesRead, buffer } = await this.#raw.readI2cBlock(address, cmd, length, Buffer.alloc(length));
      return this.#exactly(address, 'readBlock', bytesRead, length, buffer);
    });
  }

  async writeByte(address: number, cmd: number, value: number): Promise<void> {
    checkAddress(address);
    checkByte('cmd', cmd);
    checkByte('value', value);
    return this.#run(address, 'writeByte', () => this.#raw.writeByte(address, cmd, value));
  }

  async writeBlock(address: number, cmd: number, bytes: Uint8Array): Promise<void> {
    checkAddress(address);
    checkByte('cmd', cmd);
    checkBytes(bytes, I2C_BLOCK_MAX);
    return this.#run(address, 'writeBlock', async () => {
      const { bytesWritten } = await this.#raw.writeI2cBlock(address, cmd, bytes.length, asBuffer(bytes));
      this.#exactly(address, 'writeBlock', bytesWritten, bytes.length, undefined);
    });
  }

  async i2cWrite(address: number, bytes: Uint8Array): Promise<void> {
    checkAddress(address);
    checkBytes(bytes, I2C_RAW_MAX);
    return this.#run(address, 'i2cWrite', async () => {
      const { bytesWritten } = await this.#raw.i2cWrite(address, bytes.length, asBuffer(bytes));
      this.#exactly(address, 'i2cWrite', bytesWritten, bytes.length, undefined);
    });
  }

  async i2cRead(address: number, length: number): Promise<Uint8Array> {
    checkAddress(address);
    checkLength(length, I2C_RAW_MAX);
    return this.#run(address, 'i2cRead', async () => {
      const { bytesRead, buffer } = await this.#raw.i2cRead(address, length, Buffer.alloc(length));
      return this.#exactly(address, 'i2cRead', bytesRead, length, buffer);
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      try {
        await this.#raw.close();
      } catch {
        // Only close(2) of the per-address descriptors can fail here; the handle is unusable either way.
      }
      this.#onClosed(this);
    })();
    return this.#closing;
  }

  async #run<T>(address: number, op: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closing) {
      throw new I2cError('ECLOSED', `i2c-${this.busNumber}: ${op} after close`, {
        busNumber: this.busNumber,
        address,
      });
    }
    // The async wrapper turns a synchronous throw from i2c-bus into a rejection we can track.
    const pending = (async () => fn())();
    this.#inFlight.add(pending);
    try {
      return await pending;
    } catch (e) {
      throw toI2cError(e, this.busNumber, address, op);
    } finally {
      this.#inFlight.delete(pending);
    }
  }

  #exactly<B>(address: number, op: string, actual: number, expected: number, result: B): B {
    if (actual !== expected) {
      throw new I2cError(
        'EIO',
        `i2c-${this.busNumber} ${formatAddress(address)}: ${op} transferred ${actual} of ${expected} bytes`,
        { busNumber: this.busNumber, address },
      );
    }
    return result;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

function toI2cError(e: unknown, busNumber: number, address: number, op: string): I2cError {
  if (e instanceof I2cError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new I2cError(
    errnoCode(e) ?? 'EIO',
    `i2c-${busNumber} ${formatAddress(address)}: ${op} failed: ${message}`,
    { busNumber, address },
    { cause: e },
  );
}
