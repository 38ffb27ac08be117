/**
 * Builds the four buses a board profile asks for: the Linux backends on a real board, or the
 * simulated world on `backend: sim`. The world — the simulated buses and every simulated chip, sensor
 * and plant — is imported here with `await import()` and only for a simulated board, so an agent on a
 * Pi never loads simulation code (test/unit/hal/lazy-sim.test.ts walks the static imports to hold
 * that). Does no I/O; `start()` sets the simulated world going and `stop()` closes every backend after
 * the devices have been stopped.
 */
import type { Clock } from '../core/clock.js';
import type { HostPaths } from '../core/host-paths.js';
import type { Logger } from '../core/log.js';
import { createBleBackend } from './ble/index.js';
import type { Buses } from './buses.js';
import { createGpioBackend } from './gpio/index.js';
import { createI2cBackend } from './i2c/index.js';
import { createSerialBackend } from './serial/index.js';
import type { SimWorld, SimWorldSpec } from './sim/world.js';

export interface BusPlan {
  readonly backend: 'linux' | 'sim';
  /** GPIO on Linux: `sysfs` (default) or `chardev` (libgpiod v2 tools), the profile's `gpio.backend`. */
  readonly gpioBackend?: 'sysfs' | 'chardev' | undefined;
  /** BLE adapter on Linux, e.g. `hci0`. */
  readonly bleAdapter?: string | undefined;
  /** The simulated world, for `backend: sim`. */
  readonly sim?: SimWorldSpec | undefined;
}

export interface BusSet {
  readonly buses: Buses;
  /** The simulated world, when the board is simulated (tests and the console reach its device side). */
  readonly world: SimWorld | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function createBuses(
  plan: BusPlan,
  deps: { clock: Clock; log: Logger; paths: HostPaths },
): Promise<BusSet> {
  if (plan.backend === 'sim') {
    if (!plan.sim) throw new TypeError('a simulated board needs its world spec');
    const [{ SimWorld }, ble] = await Promise.all([
      import('./sim/world.js'),
      createBleBackend('sim', { clock: deps.clock }),
    ]);
    const world = new SimWorld({ clock: deps.clock, log: deps.log.child({ mod: 'sim' }), ble }, plan.sim);
    return {
      buses: world.buses,
      world,
      start: async () => world.start(),
      stop: async () => {
        world.stop();
        await closeAll(world.buses);
      },
    };
  }
  const [gpio, i2c, serial, ble] = await Promise.all([
    createGpioBackend(plan.gpioBackend === 'chardev' ? 'chardev' : 'linux', {
      clock: deps.clock,
      log: deps.log,
      sysfsRoot: deps.paths.sysfs,
    }),
    createI2cBackend('linux'),
    createSerialBackend('linux'),
    createBleBackend('linux', { clock: deps.clock, log: deps.log, adapter: plan.bleAdapter }),
  ]);
  const buses: Buses = { gpio, i2c, serial, ble };
  return { buses, world: undefined, start: async () => undefined, stop: () => closeAll(buses) };
}

async function closeAll(buses: Buses): Promise<void> {
  await Promise.allSettled([buses.gpio.close(), buses.i2c.close(), buses.serial.close(), buses.ble.close()]);
}
