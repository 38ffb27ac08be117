/**
 * The four buses a driver may use. `index.ts` of each bus picks the Linux or the simulated backend from
 * the board profile; drivers receive this object and never know which one they got.
 */
import type { BleBackend } from './ble/types.js';
import type { GpioBackend } from './gpio/types.js';
import type { I2cBackend } from './i2c/types.js';
import type { SerialBackend } from './serial/types.js';

export type BusKind = 'gpio' | 'i2c' | 'serial' | 'ble';

export interface Buses {
  readonly gpio: GpioBackend;
  readonly i2c: I2cBackend;
  readonly serial: SerialBackend;
  readonly ble: BleBackend;
}
