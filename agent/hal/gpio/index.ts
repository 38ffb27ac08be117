/**
 * Picks the GPIO backend named by the board profile (`backend: linux | sim`, and on Linux
 * `gpio.backend: sysfs | chardev`). The simulated bus gets the profile's `gpio.chips`; the sysfs one
 * resolves lines under `HostPaths.sysfs`; the character-device one runs the libgpiod v2 tools found in
 * `PATH` (chardev.ts). None does any I/O here: lines are claimed when drivers open them. The simulator is imported only when asked for,
 * so a real board never loads it.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { ChardevGpio } from './chardev.js';
import { LinuxGpio } from './linux.js';
import type { SimGpio, SimGpioChip } from './sim.js';
import type { GpioBackend } from './types.js';

export { ChardevGpio, type ChardevGpioDeps } from './chardev.js';
export { GpioError, isGpioError, isLineAbsent } from './errors.js';
export { LinuxGpio, type LinuxGpioDeps } from './linux.js';
export { listGpioChips, resolveLine } from './resolve-line.js';
export type { SimGpio, SimGpioChip, SimGpioDeps, SimLine, SimWrite } from './sim.js';

export interface GpioBackendDeps {
  readonly clock: Clock;
  readonly log?: Logger;
  /** Linux: the sysfs mount (default `/sys`). */
  readonly sysfsRoot?: string;
  /** Chardev: the directory of the libgpiod v2 tools (default: `PATH`). */
  readonly toolDir?: string;
  /** Sim: the board's gpiochips (required). */
  readonly chips?: readonly SimGpioChip[];
}

export function createGpioBackend(kind: 'sim', deps: GpioBackendDeps): Promise<SimGpio>;
export function createGpioBackend(kind: 'linux', deps: GpioBackendDeps): Promise<LinuxGpio>;
export function createGpioBackend(kind: 'chardev', deps: GpioBackendDeps): Promise<ChardevGpio>;
export function createGpioBackend(
  kind: 'linux' | 'chardev' | 'sim',
  deps: GpioBackendDeps,
): Promise<GpioBackend>;
export async function createGpioBackend(
  kind: 'linux' | 'chardev' | 'sim',
  deps: GpioBackendDeps,
): Promise<GpioBackend> {
  switch (kind) {
    case 'linux':
      return new LinuxGpio({ clock: deps.clock, log: deps.log, sysfsRoot: deps.sysfsRoot });
    case 'chardev':
      return new ChardevGpio({ clock: deps.clock, log: deps.log, toolDir: deps.toolDir });
    case 'sim':
      if (!deps.chips)
        throw new TypeError('chips is required for the simulated GPIO bus (board profile gpio.chips)');
      return new (await import('./sim.js')).SimGpio({ clock: deps.clock, chips: deps.chips });
    default:
      throw new TypeError(`kind must be 'linux', 'chardev' or 'sim', got ${String(kind)}`);
  }
}
