/**
 * Argument checks shared by the Linux and the simulated backend, so both refuse the same misuse with
 * the same `TypeError` (the contract suite runs against both) and fill in the same defaults.
 */
import type { SerialOpenOptions, SerialParity } from './types.js';

const PARITIES: readonly SerialParity[] = ['none', 'even', 'odd'];

export function checkOpenOptions(options: SerialOpenOptions): Required<SerialOpenOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be { path, baudRate, dataBits?, stopBits?, parity? }');
  }
  const { path, baudRate, dataBits = 8, stopBits = 1, parity = 'none' } = options;
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(`options.path must be a non-empty string, got ${JSON.stringify(path)}`);
  }
  if (!Number.isInteger(baudRate) || baudRate <= 0) {
    throw new TypeError(`options.baudRate must be a positive integer, got ${String(baudRate)}`);
  }
  if (![5, 6, 7, 8].includes(dataBits)) {
    throw new TypeError(`options.dataBits must be 5, 6, 7 or 8, got ${String(dataBits)}`);
  }
  if (stopBits !== 1 && stopBits !== 2) {
    throw new TypeError(`options.stopBits must be 1 or 2, got ${String(stopBits)}`);
  }
  if (!PARITIES.includes(parity)) {
    throw new TypeError(`options.parity must be one of ${PARITIES.join(', ')}, got ${String(parity)}`);
  }
  return { path, baudRate, dataBits, stopBits, parity };
}

export function checkWriteBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
}
