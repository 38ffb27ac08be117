/**
 * `bme280`: Bosch BME280 temperature / humidity / pressure sensor on I²C, polled (`pollMs`).
 * Channels: `temperature` Cel, `humidity` %RH, `pressure` Pa (a channel whose oversampling is 0 is
 * left out). Defaults are the datasheet's "weather monitoring" settings (§3.5.1).
 *
 * | option                     | default    | meaning                                                    |
 * |----------------------------|------------|------------------------------------------------------------|
 * | `bus`                      | (required) | I²C adapter number (`/dev/i2c-<bus>`)                      |
 * | `address`                  | `0x76`     | `0x76` (SDO low) or `0x77` (SDO high)                      |
 * | `mode`                     | `forced`   | `forced`: one measurement per poll; `normal`: free-running |
 * | `oversampling.temperature` | `1`        | ×1, 2, 4, 8 or 16                                          |
 * | `oversampling.pressure`    | `1`        | 0 (skipped: no `pressure` channel), ×1 … ×16               |
 * | `oversampling.humidity`    | `1`        | 0 (skipped: no `humidity` channel), ×1 … ×16               |
 * | `filter`                   | `0`        | IIR coefficient 0 (off), 2, 4, 8, 16 (§3.4.4)              |
 * | `standbyMs`                | `1000`     | normal mode: 0.5, 10, 20, 62.5, 125, 250, 500 or 1000 ms   |
 *
 * Files: `driver.ts` (the protocol: open, poll, error mapping), `compensation.ts` (trimming
 * parameters and the §8.1 formulas, shared with the simulated chip), `sim-chip.ts` (the simulated
 * BME280 on the simulated I²C bus, loaded only with the simulated world).
 */
export { type Bme280Options, bme280Driver as driver } from './driver.js';
