/**
 * A simulated I²C adapter that behaves like the real one: the same argument checks (check-args.ts),
 * the same error codes (a missing device NACKs with `EREMOTEIO`, as on a Pi), the same close rules.
 * Its device side is a set of simulated chips attached at addresses. A chip sees what a real chip
 * sees — write messages and read messages, not "register reads" — so an SMBus register read arrives
 * as a one-byte write of the register number followed by a read, and a register chip
 * (sim-register-chip.ts) or a command chip (hal/drivers/sht31/sim-chip.ts) decides what that means.
 *
 * Tests drive the device side: attach/detach chips, make one stop answering (`chip.present = false`),
 * or fail the next transactions to an address with a chosen code (`failNext`). All state lives in the
 * instance. Transactions run to completion when called, so none is ever cut off by `close()`.
 */
import {
  checkAddress,
  checkBusNumber,
  checkByte,
  checkBytes,
  checkLength,
  I2C_BLOCK_MAX,
  I2C_RAW_MAX,
} from './check-args.js';
import { formatAddress, I2cError, type I2cErrorCode } from './errors.js';
import type { I2cBackend, I2cBus } from './types.js';

/**
 * The device side of one simulated chip. The bus calls it once per message of a transaction; a read
 * after a write in the same transaction (a repeated START) arrives as `onWrite` then `onRead`.
 */
export interface SimI2cChip {
  /** False: the chip does not acknowledge its address (unplugged, unpowered, held in reset). */
  readonly present: boolean;
  /** A write message: the bytes after the address byte. `'nack'` refuses it (the master sees EREMOTEIO). */
  onWrite(bytes: Uint8Array): 'ack' | 'nack';
  /**
   * A read message of `length` bytes. `'nack'` refuses the read header. Fewer bytes than asked are
   * padded with 0xFF, as a master reads an undriven (pulled-up) SDA line.
   */
  onRead(length: number): Uint8Array | 'nack';
}

export interface SimI2cOptions {
  /** Adapters that exist (`open` of any other rejects `ENOENT`). Default `[1]`, the Pi's header bus. */
  readonly buses?: readonly number[];
}

type Message = { readonly write: Uint8Array } | { readonly read: number };

interface Fault {
  readonly code: I2cErrorCode;
  remaining: number;
}

export class SimI2c implements I2cBackend {
  readonly kind = 'sim';
  readonly #buses = new Map<number, Map<number, SimI2cChip>>();
  readonly #faults = new Map<string, Fault>();
  readonly #handles = new Set<SimI2cBus>();

  constructor(options: SimI2cOptions = {}) {
    for (const busNumber of options.buses ?? [1]) this.#bus(busNumber);
  }

  async open(busNumber: number): Promise<I2cBus> {
    checkBusNumber(busNumber);
    if (!this.#buses.has(busNumber)) {
      throw new I2cError('ENOENT', `cannot open /dev/i2c-${busNumber}: no such adapter`, { busNumber });
    }
    const handle = new SimI2cBus(
      busNumber,
      (address, messages) => this.#transfer(busNumber, address, messages),
      (h) => this.#handles.delete(h),
    );
    this.#handles.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#handles].map((h) => h.close()));
  }

  /** Device side: puts `chip` on the bus at `address` (creating the adapter if it did not exist). */
  attach(busNumber: number, address: number, chip: SimI2cChip): void {
    checkAddress(address);
    const bus = this.#bus(busNumber);
    if (bus.has(address)) {
      throw new TypeError(`address ${formatAddress(address)} on bus ${busNumber} already has a chip`);
    }
    bus.set(address, chip);
  }

  /** Device side: removes the chip at `address` (it stops answering); a no-op if there is none. */
  detach(busNumber: number, address: number): void {
    this.#buses.get(busNumber)?.delete(address);
  }

  chip(busNumber: number, address: number): SimI2cChip | undefined {
    return this.#buses.get(busNumber)?.get(address);
  }

  /**
   * Device side: the next `count` transactions to `address` (default 1) fail with `code` (default
   * `EREMOTEIO`) before reaching the chip — a glitch, a brown-out, a noisy cable.
   */
  failNext(busNumber: number, address: number, options: { code?: I2cErrorCode; count?: number } = {}): void {
    checkAddress(address);
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count < 1)
      throw new TypeError(`count must be a positive integer, got ${count}`);
    this.#faults.set(`${busNumber}:${address}`, { code: options.code ?? 'EREMOTEIO', remaining: count });
  }

  /** Handles still open (on `busNumber`, or on any bus): a test's check that drivers close what they open. */
  openHandles(busNumber?: number): number {
    return [...this.#handles].filter((h) => busNumber === undefined || h.busNumber === busNumber).length;
  }

  #bus(busNumber: number): Map<number, SimI2cChip> {
    checkBusNumber(busNumber);
    const bus = this.#buses.get(busNumber) ?? new Map<number, SimI2cChip>();
    this.#buses.set(busNumber, bus);
    return bus;
  }

  #transfer(busNumber: number, address: number, messages: readonly Message[]): Buffer {
    const where = { busNumber, address };
    const key = `${busNumber}:${address}`;
    const fault = this.#faults.get(key);
    if (fault) {
      if (--fault.remaining === 0) this.#faults.delete(key);
      throw new I2cError(
        fault.code,
        `i2c-${busNumber} ${formatAddress(address)}: injected ${fault.code}`,
        where,
      );
    }
    const chip = this.#buses.get(busNumber)?.get(address);
    const nack = () =>
      new I2cError('EREMOTEIO', `i2c-${busNumber} ${formatAddress(address)}: no acknowledge`, where);
    if (!chip?.present) throw nack();
    let result = Buffer.alloc(0);
    for (const m of messages) {
      if ('write' in m) {
        if (chip.onWrite(Uint8Array.from(m.write)) === 'nack') throw nack();
      } else {
        const data = chip.onRead(m.read);
        if (data === 'nack') throw nack();
        result = Buffer.alloc(m.read, 0xff);
        result.set(data.subarray(0, m.read));
      }
    }
    return result;
  }
}

class SimI2cBus implements I2cBus {
  readonly busNumber: number;
  readonly #transfer: (address: number, messages: readonly Message[]) => Buffer;
  readonly #onClosed: (handle: SimI2cBus) => void;
  #open = true;

  constructor(
    busNumber: number,
    transfer: (address: number, messages: readonly Message[]) => Buffer,
    onClosed: (handle: SimI2cBus) => void,
  ) {
    this.busNumber = busNumber;
    this.#transfer = transfer;
    this.#onClosed = onClosed;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  async readByte(address: number, cmd: number): Promise<number> {
    checkAddress(address);
    checkByte('cmd', cmd);
    return this.#run(address, 'readByte', [{ write: Uint8Array.of(cmd) }, { read: 1 }])[0]!;
  }

  async readBlock(address: number, cmd: number, length: number): Promise<Uint8Array> {
    checkAddress(address);
    checkByte('cmd', cmd);
    checkLength(length, I2C_BLOCK_MAX);
    return this.#run(address, 'readBlock', [{ write: Uint8Array.of(cmd) }, { read: length }]);
  }

  async writeByte(address: number, cmd: number, value: number): Promise<void> {
    checkAddress(address);
    checkByte('cmd', cmd);
    checkByte('value', value);
    this.#run(address, 'writeByte', [{ write: Uint8Array.of(cmd, value) }]);
  }

  async writeBlock(address: number, cmd: number, bytes: Uint8Array): Promise<void> {
    checkAddress(address);
    checkByte('cmd', cmd);
    checkBytes(bytes, I2C_BLOCK_MAX);
    this.#run(address, 'writeBlock', [{ write: Uint8Array.of(cmd, ...bytes) }]);
  }

  async i2cWrite(address: number, bytes: Uint8Array): Promise<void> {
    checkAddress(address);
    checkBytes(bytes, I2C_RAW_MAX);
    this.#run(address, 'i2cWrite', [{ write: bytes }]);
  }

  async i2cRead(address: number, length: number): Promise<Uint8Array> {
    checkAddress(address);
    checkLength(length, I2C_RAW_MAX);
    return this.#run(address, 'i2cRead', [{ read: length }]);
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.#onClosed(this);
  }

  #run(address: number, op: string, messages: readonly Message[]): Buffer {
    if (!this.#open) {
      throw new I2cError('ECLOSED', `i2c-${this.busNumber}: ${op} after close`, {
        busNumber: this.busNumber,
        address,
      });
    }
    return this.#transfer(address, messages);
  }
}
