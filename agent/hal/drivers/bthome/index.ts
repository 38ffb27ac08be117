/**
 * `bthome`: a BTHome v2 sensor (https://bthome.io) broadcasting its readings in BLE advertisements,
 * a push device (no connection, no pairing). Channels: the BTHome properties named in `channels`, in
 * primary SenML units (the object table converts: pressure in Pa, energy in J, PM in kg/m3, CO2 and
 * moisture as the ratio `/`), plus `rssi` in dBW (dBm − 30).
 *
 * | option         | default                            | meaning                                         |
 * |----------------|------------------------------------|-------------------------------------------------|
 * | `address`      | (required)                         | the sensor's MAC address, any case              |
 * | `bindkey`      | (none: plaintext)                  | AES key, 32 hex digits, for encrypting sensors  |
 * | `channels`     | `[temperature, humidity, battery]` | properties to publish (`temperature_2`: second) |
 * | `staleAfterMs` | `300000`                           | silence that marks a channel stale (not events) |
 *
 * Files, split by level: `objects.ts` (the object table), `decode.ts` and `encode.ts` (service data,
 * with encryption), `driver.ts` (scan, duplicate and replay filtering, publishing), `sim-sensor.ts`
 * (a simulated BTHome thermometer advertising on the simulated radio, loaded only with the simulated
 * world).
 */
export { type BthomeOptions, bthomeDriver as driver } from './driver.js';
