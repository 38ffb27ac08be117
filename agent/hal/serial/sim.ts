/**
 * A simulated serial bus. Each port exists once a test or the simulated board makes it with
 * `sim.port(path)`; its *device side* (`SimSerialPort`) is what a simulated sensor or a test holds: it
 * sends bytes to the host (`deviceWrite`), sees what the host wrote (`lastWrite`, `onHostWrite`), and
 * can be unplugged like a USB adapter (`unplug()`: the open connection closes with `EDISCONNECTED`
 * and `open` rejects `ENOENT` until `plug()`).
 *
 * It behaves like the Linux backend where a driver could tell the difference: the same argument
 * checks, the exclusive lock (`EBUSY`), data delivered asynchronously and dropped while no listener is
 * registered, pending writes rejected on close. A device side may also declare its own line speed; a
 * host opening at another speed then reads garbage, as it would on a real wire. State is per instance.
 */
import { checkOpenOptions, checkWriteBytes } from './check-options.js';
import { ConnectionCore } from './connection-core.js';
import { SerialError } from './errors.js';
import type {
  SerialBackend,
  SerialCloseListener,
  SerialConnection,
  SerialDataListener,
  SerialOpenOptions,
} from './types.js';

export interface SimSerialPortOptions {
  /** The device's line speed; a host opening at another rate exchanges garbage with it. */
  readonly baudRate?: number;
}

export type HostWriteListener = (bytes: Uint8Array) => void;

export class SimSerial implements SerialBackend {
  readonly kind = 'sim';
  readonly #ports = new Map<string, SimSerialPort>();

  /** The device side of port `path`, made (plugged in) on first use. */
  port(path: string, options: SimSerialPortOptions = {}): SimSerialPort {
    if (typeof path !== 'string' || path.length === 0) {
      throw new TypeError(`path must be a non-empty string, got ${JSON.stringify(path)}`);
    }
    let port = this.#ports.get(path);
    if (!port) {
      port = new SimSerialPort(path, options);
      this.#ports.set(path, port);
    }
    return port;
  }

  async open(options: SerialOpenOptions): Promise<SerialConnection> {
    const opts = checkOpenOptions(options);
    await Promise.resolve(); // open(2) and tcsetattr are never synchronous
    const port = this.#ports.get(opts.path);
    if (!port?.plugged) {
      throw new SerialError('ENOENT', opts.path, `cannot open ${opts.path}: no such port`);
    }
    return port.attach(opts.baudRate);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#ports.values()].map((p) => p.closeHost()));
  }
}

/** The device end of a simulated port. */
export class SimSerialPort {
  readonly path: string;
  readonly #deviceBaudRate: number | undefined;
  readonly #hostWriteListeners = new Set<HostWriteListener>();
  #host: SimSerialConnection | undefined;
  #plugged = true;
  #lastWrite: Uint8Array | undefined;
  #written: Uint8Array[] = [];

  constructor(path: string, options: SimSerialPortOptions) {
    if (options.baudRate !== undefined && !(Number.isInteger(options.baudRate) && options.baudRate > 0)) {
      throw new TypeError(`options.baudRate must be a positive integer, got ${String(options.baudRate)}`);
    }
    this.path = path;
    this.#deviceBaudRate = options.baudRate;
  }

  get plugged(): boolean {
    return this.#plugged;
  }

  /** True while the host has the port open. */
  get isOpen(): boolean {
    return this.#host?.isOpen ?? false;
  }

  /** The line speed the host opened the port at, while it is open. */
  get hostBaudRate(): number | undefined {
    return this.isOpen ? this.#host?.baudRate : undefined;
  }

  /** The bytes of the host's last write, `undefined` before the first. */
  get lastWrite(): Uint8Array | undefined {
    return this.#lastWrite;
  }

  /** Every host write so far, in order. */
  get writes(): readonly Uint8Array[] {
    return this.#written;
  }

  /** Calls `listener` with each host write as it reaches the device. Returns the remover. */
  onHostWrite(listener: HostWriteListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.#hostWriteListeners.add(listener);
    return () => this.#hostWriteListeners.delete(listener);
  }

  /**
   * Sends `bytes` to the host as one chunk, delivered asynchronously (a microtask later). Bytes sent
   * while the host has the port closed, or while unplugged, are lost, as on a real line.
   */
  deviceWrite(bytes: Uint8Array | readonly number[]): void {
    const data = Uint8Array.from(bytes);
    const host = this.#host;
    if (!this.#plugged || !host?.isOpen || data.length === 0) return;
    const line = this.#onTheWire(data, host.baudRate);
    queueMicrotask(() => host.receive(line));
  }

  /** Pulls the adapter out: an open host connection closes with `EDISCONNECTED`; `open` rejects `ENOENT`. */
  unplug(): void {
    if (!this.#plugged) return;
    this.#plugged = false;
    this.#host?.disconnect();
    this.#host = undefined;
  }

  /** Plugs the adapter back in; the host must open the port again. */
  plug(): void {
    this.#plugged = true;
  }

  /** @internal Called by `SimSerial.open`. */
  attach(baudRate: number): SimSerialConnection {
    if (this.#host?.isOpen) {
      throw new SerialError('EBUSY', this.path, `cannot open ${this.path}: the port is already open`);
    }
    const host = new SimSerialConnection(this.path, baudRate, (bytes) => this.#fromHost(bytes));
    this.#host = host;
    return host;
  }

  /** @internal Called by `SimSerial.close`. */
  async closeHost(): Promise<void> {
    await this.#host?.close();
  }

  #fromHost(bytes: Uint8Array): void {
    const data = this.#onTheWire(bytes, this.#host?.baudRate ?? 0);
    this.#lastWrite = data;
    this.#written.push(data);
    for (const listener of [...this.#hostWriteListeners]) {
      try {
        listener(data);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  /**
   * Bytes as the far end samples them. At a mismatched rate a UART reads framing errors and wrong bits;
   * any deterministic scramble that destroys start bytes and checksums is as good as the real thing.
   */
  #onTheWire(bytes: Uint8Array, hostBaudRate: number): Uint8Array {
    if (this.#deviceBaudRate === undefined || this.#deviceBaudRate === hostBaudRate) return bytes;
    return bytes.map((b) => (b * 37 + 0x5b) & 0xff);
  }
}

class SimSerialConnection implements SerialConnection {
  readonly path: string;
  readonly baudRate: number;
  readonly #core: ConnectionCore;
  readonly #toDevice: (bytes: Uint8Array) => void;

  constructor(path: string, baudRate: number, toDevice: (bytes: Uint8Array) => void) {
    this.path = path;
    this.baudRate = baudRate;
    this.#core = new ConnectionCore(path);
    this.#toDevice = toDevice;
  }

  get isOpen(): boolean {
    return this.#core.isOpen;
  }

  write(bytes: Uint8Array): Promise<void> {
    checkWriteBytes(bytes);
    const copy = Uint8Array.from(bytes); // the caller may reuse its buffer once write() returns
    return this.#core.write((done) => {
      // Handed to the "driver" a microtask later, so a close() right after write() wins, as it can on Linux.
      queueMicrotask(() => {
        if (!this.#core.isOpen) return;
        this.#toDevice(copy);
        done();
      });
    });
  }

  onData(listener: SerialDataListener): () => void {
    return this.#core.onData(listener);
  }

  onClose(listener: SerialCloseListener): () => void {
    return this.#core.onClose(listener);
  }

  async close(): Promise<void> {
    this.#core.finish(undefined);
  }

  receive(chunk: Uint8Array): void {
    this.#core.emitData(chunk);
  }

  disconnect(): void {
    this.#core.finish(new SerialError('EDISCONNECTED', this.path, `${this.path}: device disconnected`));
  }
}
