/**
 * Every driver a board profile can name. One line per driver; the loader validates each device's
 * `options:` with the driver's own schema.
 *
 * | driver          | bus    | channels                                   |
 * |-----------------|--------|--------------------------------------------|
 * | `bme280`        | i2c    | temperature Cel, humidity %RH, pressure Pa |
 * | `sht31`         | i2c    | temperature Cel, humidity %RH              |
 * | `pms5003`       | serial | pm1_0, pm2_5, pm10 ug/m3                   |
 * | `bthome`        | ble    | temperature, humidity, battery, … (v2)     |
 * | `relay`         | gpio   | state (writable boolean)                   |
 * | `digital-input` | gpio   | state (boolean, debounced)                 |
 * | `pulse-counter` | gpio   | rate (e.g. l/s), total (e.g. l)            |
 */
import { bme280Driver } from './bme280/driver.js';
import { bthomeDriver } from './bthome/driver.js';
import { digitalInputDriver } from './digital-input/driver.js';
import type { DriverFactory } from './driver-factory.js';
import { pms5003Driver } from './pms5003/driver.js';
import { pulseCounterDriver } from './pulse-counter/driver.js';
import { relayDriver } from './relay/driver.js';
import { sht31Driver } from './sht31/driver.js';

export const DRIVERS: readonly DriverFactory[] = [
  bme280Driver,
  sht31Driver,
  pms5003Driver,
  bthomeDriver,
  relayDriver,
  digitalInputDriver,
  pulseCounterDriver,
] as unknown as readonly DriverFactory[];
