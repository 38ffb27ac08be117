/**
 * Picks the BLE backend a board profile names: the adapter through noble (imported only when the first
 * scan starts), or the simulated radio whose device side the simulated world and tests use (imported
 * only when asked for, so a real board never loads it).
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { LinuxBle } from './linux.js';
import type { SimBle } from './sim.js';
import type { BleBackend } from './types.js';

export { BleUnavailableError, type BleUnavailableReason, isBleUnavailable } from './errors.js';
export { LinuxBle, type LinuxBleDeps } from './linux.js';
export type { SimAdapterState, SimAdvertisement, SimBle, SimBleDeps } from './sim.js';
export type {
  Advertisement,
  BleAdapterState,
  BleBackend,
  BleScan,
  BleScanFilter,
  BleScanListener,
} from './types.js';

export interface BleBackendDeps {
  readonly clock: Clock;
  readonly log?: Logger | undefined;
  /** Linux: the adapter, e.g. `hci0` (default: the first). */
  readonly adapter?: string | undefined;
}

export function createBleBackend(kind: 'sim', deps: BleBackendDeps): Promise<SimBle>;
export function createBleBackend(kind: 'linux', deps: BleBackendDeps): Promise<LinuxBle>;
export function createBleBackend(kind: 'linux' | 'sim', deps: BleBackendDeps): Promise<BleBackend>;
export async function createBleBackend(kind: 'linux' | 'sim', deps: BleBackendDeps): Promise<BleBackend> {
  switch (kind) {
    case 'linux':
      return new LinuxBle({ clock: deps.clock, log: deps.log, adapter: deps.adapter });
    case 'sim':
      return new (await import('./sim.js')).SimBle({ clock: deps.clock });
    default:
      throw new TypeError(`kind must be 'linux' or 'sim', got ${String(kind)}`);
  }
}
