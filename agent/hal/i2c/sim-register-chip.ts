/**
 * The device side of a register-map chip (BME280, most I²C sensors and EEPROM-like parts): the first
 * byte of a write sets the register pointer; a read returns registers from the pointer on, which
 * auto-increments. Data bytes after the pointer are either written to successive registers
 * (`auto-increment`, the common case) or taken as register/value pairs (`pairs`, Bosch sensors:
 * BME280 datasheet §6.2.1). Subclasses give registers meaning by overriding `readRegister` /
 * `writeRegister`; the default is plain RAM in `registers`.
 */
import type { SimI2cChip } from './sim.js';

export interface SimRegisterChipOptions {
  readonly writes: 'auto-increment' | 'pairs';
}

export class SimRegisterChip implements SimI2cChip {
  /** False: the chip stops acknowledging (unplugged); its registers keep their values. */
  present = true;
  protected readonly registers = new Uint8Array(256);
  readonly #writes: 'auto-increment' | 'pairs';
  readonly #reads = new Uint32Array(256);
  #pointer = 0;

  constructor(options: SimRegisterChipOptions = { writes: 'auto-increment' }) {
    this.#writes = options.writes;
  }

  onWrite(bytes: Uint8Array): 'ack' | 'nack' {
    if (bytes.length === 0) return 'ack'; // an address-only (quick) write
    if (this.#writes === 'pairs') {
      for (let i = 0; i + 1 < bytes.length; i += 2) this.writeRegister(bytes[i]!, bytes[i + 1]!);
      this.#pointer = bytes[bytes.length % 2 === 1 ? bytes.length - 1 : bytes.length - 2]!;
    } else {
      this.#pointer = bytes[0]!;
      for (const b of bytes.subarray(1)) {
        this.writeRegister(this.#pointer, b);
        this.#pointer = (this.#pointer + 1) & 0xff;
      }
    }
    return 'ack';
  }

  onRead(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      this.#reads[this.#pointer]!++;
      out[i] = this.readRegister(this.#pointer);
      this.#pointer = (this.#pointer + 1) & 0xff;
    }
    return out;
  }

  /** Device side: a register as the bus would read it now, without counting as a bus read. */
  peek(register: number): number {
    return this.readRegister(register);
  }

  /** Device side: sets a register's stored value directly, bypassing write rules (read-only registers too). */
  poke(register: number, value: number): void {
    this.registers[register] = value;
  }

  /** Device side: how many times the bus has read `register` (a burst counts each register it covers). */
  readCount(register: number): number {
    return this.#reads[register]!;
  }

  protected readRegister(register: number): number {
    return this.registers[register]!;
  }

  protected writeRegister(register: number, value: number): void {
    this.registers[register] = value;
  }
}
