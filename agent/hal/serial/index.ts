/**
 * Picks the serial backend a board profile names: real UARTs through `serialport`, or a simulated bus
 * whose ports (and the devices behind them) the composition root or a test makes on the device side.
 * The simulator is imported only when asked for, so a real board never loads it.
 */
import { LinuxSerial } from './linux.js';
import type { SimSerial } from './sim.js';
import type { SerialBackend } from './types.js';

export { isSerialError, SerialError, type SerialErrorCode } from './errors.js';
export { LinuxSerial } from './linux.js';
export type { HostWriteListener, SimSerial, SimSerialPort, SimSerialPortOptions } from './sim.js';
export type { SerialBackend, SerialConnection, SerialOpenOptions } from './types.js';

export function createSerialBackend(kind: 'sim', sim?: SimSerial): Promise<SimSerial>;
export function createSerialBackend(kind: 'linux'): Promise<LinuxSerial>;
export function createSerialBackend(kind: 'linux' | 'sim', sim?: SimSerial): Promise<SerialBackend>;
/** `sim` uses the given simulator (so the caller keeps its device side), or a fresh one without ports. */
export async function createSerialBackend(kind: 'linux' | 'sim', sim?: SimSerial): Promise<SerialBackend> {
  switch (kind) {
    case 'linux':
      if (sim) throw new TypeError('sim must not be given for the linux backend');
      return new LinuxSerial();
    case 'sim':
      return sim ?? new (await import('./sim.js')).SimSerial();
    default:
      throw new TypeError(`kind must be 'linux' or 'sim', got ${String(kind)}`);
  }
}
