/**
 * How a driver is named in a board profile and built from it. Each driver folder's `index.ts`
 * exports its `DriverFactory` as `driver`; `registry.ts` lists them. The factory's zod schema
 * validates the device's `options:` block, so a profile mistake is reported with its path before
 * anything opens.
 */
import type { z } from 'zod';
import type { Buses, BusKind } from '../buses.js';
import type { Device } from '../device.js';

export interface DriverFactory<Options = unknown> {
  /** The `driver:` value in a board profile, e.g. `bme280`. */
  readonly driver: string;
  /** The bus capability the board must declare for this driver. */
  readonly bus: BusKind;
  /** Validates the profile's `options:` (input unknown, output with defaults applied). */
  readonly options: z.ZodType<Options, z.ZodTypeDef, unknown>;
  /** Builds the device; does no I/O (that happens in `Device.open`). */
  create(options: Options, buses: Buses): Device;
}
