/**
 * `sht31`: Sensirion SHT3x (SHT30/31/35) temperature / humidity sensor on I²C, polled (`pollMs`),
 * single-shot without clock stretching. Channels: `temperature` Cel, `humidity` %RH.
 *
 * | option          | default    | meaning                                                            |
 * |-----------------|------------|--------------------------------------------------------------------|
 * | `bus`           | (required) | I²C adapter number (`/dev/i2c-<bus>`)                              |
 * | `address`       | `0x44`     | `0x44` (ADDR low, the usual breakout) or `0x45` (ADDR high)        |
 * | `repeatability` | `high`     | `high` / `medium` / `low`: less noise against a longer measurement |
 *
 * Files: `driver.ts` (the protocol), `crc8.ts` (the CRC after every word, shared with the simulated
 * chip), `sim-chip.ts` (the simulated SHT3x on the simulated I²C bus, loaded only with the simulated
 * world).
 */
export { type Sht31Options, sht31Driver as driver } from './driver.js';
