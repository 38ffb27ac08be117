/**
 * Picks the I²C backend a board profile names: the real adapter through `i2c-bus`, or a simulated
 * one whose chips the composition root (or a test) attaches on the device side. The simulator is
 * imported only when asked for, so a real board never loads it.
 */
import { LinuxI2c } from './linux.js';
import type { SimI2c } from './sim.js';
import type { I2cBackend } from './types.js';

export { I2cError, type I2cErrorCode, isI2cError, isI2cNack } from './errors.js';
export { LinuxI2c } from './linux.js';
export type { SimI2c, SimI2cChip } from './sim.js';
export type { I2cBackend, I2cBus } from './types.js';

/** `sim` uses the given simulator (so the caller keeps its device side), or a fresh one with bus 1. */
export async function createI2cBackend(kind: 'linux' | 'sim', sim?: SimI2c): Promise<I2cBackend> {
  switch (kind) {
    case 'linux':
      if (sim) throw new TypeError('sim must not be given for the linux backend');
      return new LinuxI2c();
    case 'sim':
      return sim ?? new (await import('./sim.js')).SimI2c();
    default:
      throw new TypeError(`kind must be 'linux' or 'sim', got ${String(kind)}`);
  }
}
