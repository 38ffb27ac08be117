/**
 * `pms5003`: Plantower PMS5003 particulate sensor on a UART, a push device (it sends frames by
 * itself; nothing is written to it). Channels: `pm1_0`, `pm2_5`, `pm10` in kg/m3 (the atmospheric
 * values; the sensor's µg/m³ × 1e-9: 35 µg/m³ is 3.5e-8).
 *
 * | option         | default    | meaning                                                               |
 * |----------------|------------|-----------------------------------------------------------------------|
 * | `port`         | (required) | the UART the sensor's TX is wired to (`/dev/ttyAMA0`, `/dev/ttyUSB0`) |
 * | `baudRate`     | `9600`     | the UART speed; the PMS5003 talks at 9600 8N1                         |
 * | `staleAfterMs` | `10000`    | no frame for this long marks the channels stale                       |
 * | `firstFrameMs` | `5000`     | how long `open` waits for a first valid frame before "absent"         |
 *
 * Files, split by level: `frame.ts` (the 32-byte frame and a resynchronising stream decoder),
 * `driver.ts` (port, publishing, faults), `sim-sensor.ts` (the simulated sensor pushing frames into a
 * simulated serial port, loaded only with the simulated world).
 */
export { type Pms5003Options, pms5003Driver as driver } from './driver.js';
