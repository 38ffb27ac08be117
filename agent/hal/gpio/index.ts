/**
 * Picks the GPIO backend named by the board profile (`backend: linux | sim`). The simulated bus gets
 * the profile's `gpio.chips`; the Linux one resolves lines under `HostPaths.sysfs`. Neither does any
 * I/O here: lines are claimed when drivers open them. The simulator is imported only when asked for,
 * so a real board never loads it.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { LinuxGpio } from './linux.js';
import type { SimGpio, SimGpioChip } from './sim.js';
import type { GpioBackend } from './types.js';

export { GpioError, isGpioError, isLineAbsent } from './errors.js';
export { LinuxGpio, type LinuxGpioDeps } from './linux.js';
export { listGpioChips, resolveLine } from './resolve-line.js';
export type { SimGpio, SimGpioChip, SimGpioDeps, SimLine, SimWrite } from './sim.js';

export interface GpioBackendDeps {
  readonly clock: Clock;
  readonly log?: Logger;
  /** Linux: the sysfs mount (default `/sys`). */
  readonly sysfsRoot?: string;
  /** Sim: the board's gpiochips (required). */
  readonly chips?: readonly SimGpioChip[];
}

export function createGpioBackend(kind: 'sim', deps: GpioBackendDeps): Promise<SimGpio>;
export function createGpioBackend(kind: 'linux', deps: GpioBackendDeps): Promise<LinuxGpio>;
export function createGpioBackend(kind: 'linux' | 'sim', deps: GpioBackendDeps): Promise<GpioBackend>;
export async function createGpioBackend(kind: 'linux' | 'sim', deps: GpioBackendDeps): Promise<GpioBackend> {
  switch (kind) {
    case 'linux':
      return new LinuxGpio({ clock: deps.clock, log: deps.log, sysfsRoot: deps.sysfsRoot });
    case 'sim':
      if (!deps.chips)
        throw new TypeError('chips is required for the simulated GPIO bus (board profile gpio.chips)');
      return new (await import('./sim.js')).SimGpio({ clock: deps.clock, chips: deps.chips });
    default:
      throw new TypeError(`kind must be 'linux' or 'sim', got ${String(kind)}`);
  }
}
