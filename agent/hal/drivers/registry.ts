/**
 * Every driver a board profile can name, each in its own folder `agent/hal/drivers/<driver>/`: the
 * protocol code, the simulated peer, and an `index.ts` whose header documents the options and
 * which exports the folder's `driver` definition. One line per driver; the loader validates each
 * device's `options:` with the driver's own schema. The simulated peers are not imported from here:
 * only the simulated world imports them, and it is loaded only for a `backend: sim` board.
 *
 * | driver          | folder             | bus    | channels                                   |
 * |-----------------|--------------------|--------|--------------------------------------------|
 * | `bme280`        | `bme280/`          | i2c    | temperature Cel, humidity %RH, pressure Pa |
 * | `sht31`         | `sht31/`           | i2c    | temperature Cel, humidity %RH              |
 * | `pms5003`       | `pms5003/`         | serial | pm1_0, pm2_5, pm10 kg/m3                   |
 * | `bthome`        | `bthome/`          | ble    | temperature, humidity, battery, … (v2)     |
 * | `relay`         | `relay/`           | gpio   | state (writable boolean)                   |
 * | `digital-input` | `digital-input/`   | gpio   | state (boolean, debounced)                 |
 * | `pulse-counter` | `pulse-counter/`   | gpio   | rate (e.g. m3/s), total (e.g. m3)          |
 *
 * Every channel's unit is a primary SenML unit the agent produces (agent/core/senml-units.ts): a
 * driver converts what its device reports (µg/m³, hPa, kWh, …) into it before publishing.
 *
 * Shared by the folders: `driver-factory.ts` (the contract), `gpio-options.ts`, `number-in.ts`.
 */
import { driver as bme280 } from './bme280/index.js';
import { driver as bthome } from './bthome/index.js';
import { driver as digitalInput } from './digital-input/index.js';
import type { DriverFactory } from './driver-factory.js';
import { driver as pms5003 } from './pms5003/index.js';
import { driver as pulseCounter } from './pulse-counter/index.js';
import { driver as relay } from './relay/index.js';
import { driver as sht31 } from './sht31/index.js';

export const DRIVERS: readonly DriverFactory[] = [
  bme280,
  sht31,
  pms5003,
  bthome,
  relay,
  digitalInput,
  pulseCounter,
] as unknown as readonly DriverFactory[];
