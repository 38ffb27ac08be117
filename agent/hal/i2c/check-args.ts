/**
 * Argument checks shared by the Linux and the simulated bus, so both refuse exactly the same calls
 * (types.ts lists the rules). Each throws `TypeError` naming the parameter and the value.
 */

/** SMBus block transfers carry at most 32 data bytes (SMBus 3.x §6.5.7, `I2C_SMBUS_BLOCK_MAX`). */
export const I2C_BLOCK_MAX = 32;
/** i2c-dev refuses plain reads and writes longer than this (drivers/i2c/i2c-dev.c). */
export const I2C_RAW_MAX = 8192;

export function checkBusNumber(busNumber: number): void {
  if (!Number.isInteger(busNumber) || busNumber < 0) {
    throw new TypeError(`busNumber must be a non-negative integer, got ${String(busNumber)}`);
  }
}

/** 7-bit addresses 0x00–0x02 and 0x78–0x7f are reserved by the I²C specification (UM10204 §3.1.12). */
export function checkAddress(address: number): void {
  if (!Number.isInteger(address) || address < 0x03 || address > 0x77) {
    throw new TypeError(`address must be an integer in 0x03-0x77, got ${String(address)}`);
  }
}

export function checkByte(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new TypeError(`${name} must be an integer in 0-255, got ${String(value)}`);
  }
}

export function checkLength(length: number, max: number): void {
  if (!Number.isInteger(length) || length < 1 || length > max) {
    throw new TypeError(`length must be an integer in 1-${max}, got ${String(length)}`);
  }
}

export function checkBytes(bytes: Uint8Array, max: number): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (bytes.length < 1 || bytes.length > max) {
    throw new TypeError(`bytes must hold 1-${max} bytes, got ${bytes.length}`);
  }
}
