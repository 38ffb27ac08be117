/**
 * BME280 trimming parameters and compensation, straight from the Bosch datasheet (BST-BME280-DS002):
 * the calibration layout of §4.2.2 (Table 16) and the double-precision formulas of Appendix A §8.1.
 * Doubles rather than the int32/int64 code of §4.2.3 because JavaScript numbers are doubles — the
 * 64-bit integer pressure path would need BigInt — and §8.1 is the most accurate of the three.
 * `t_fine` is truncated to an integer as the datasheet's `(BME280_S32_t)` cast does, because pressure
 * and humidity are computed from that integer. The simulated chip inverts these same functions.
 */

export interface Bme280Calibration {
  readonly digT1: number;
  readonly digT2: number;
  readonly digT3: number;
  readonly digP1: number;
  readonly digP2: number;
  readonly digP3: number;
  readonly digP4: number;
  readonly digP5: number;
  readonly digP6: number;
  readonly digP7: number;
  readonly digP8: number;
  readonly digP9: number;
  readonly digH1: number;
  readonly digH2: number;
  readonly digH3: number;
  readonly digH4: number;
  readonly digH5: number;
  readonly digH6: number;
}

/** First calibration block, `calib00`–`calib25` at 0x88–0xA1. */
export const BME280_CALIB_TP_REG = 0x88;
export const BME280_CALIB_TP_LENGTH = 26;
/** Second block, `calib26`–`calib32` at 0xE1–0xE7 (humidity). */
export const BME280_CALIB_H_REG = 0xe1;
export const BME280_CALIB_H_LENGTH = 7;

/**
 * Decodes the two calibration blocks. dig_H4 and dig_H5 are 12-bit signed values sharing register
 * 0xE5; their high bytes (0xE4, 0xE6) are sign-extended as Bosch's reference driver does.
 */
export function parseBme280Calibration(tp: Uint8Array, h: Uint8Array): Bme280Calibration {
  if (tp.length !== BME280_CALIB_TP_LENGTH) throw new TypeError(`tp must hold 26 bytes, got ${tp.length}`);
  if (h.length !== BME280_CALIB_H_LENGTH) throw new TypeError(`h must hold 7 bytes, got ${h.length}`);
  const a = new DataView(tp.buffer, tp.byteOffset, tp.byteLength);
  const b = new DataView(h.buffer, h.byteOffset, h.byteLength);
  return {
    digT1: a.getUint16(0, true),
    digT2: a.getInt16(2, true),
    digT3: a.getInt16(4, true),
    digP1: a.getUint16(6, true),
    digP2: a.getInt16(8, true),
    digP3: a.getInt16(10, true),
    digP4: a.getInt16(12, true),
    digP5: a.getInt16(14, true),
    digP6: a.getInt16(16, true),
    digP7: a.getInt16(18, true),
    digP8: a.getInt16(20, true),
    digP9: a.getInt16(22, true),
    digH1: a.getUint8(25),
    digH2: b.getInt16(0, true),
    digH3: b.getUint8(2),
    digH4: b.getInt8(3) * 16 + (b.getUint8(4) & 0x0f),
    digH5: b.getInt8(5) * 16 + (b.getUint8(4) >> 4),
    digH6: b.getInt8(6),
  };
}

/** The inverse of `parseBme280Calibration`, for the simulated chip's register map. */
export function encodeBme280Calibration(cal: Bme280Calibration): { tp: Uint8Array; h: Uint8Array } {
  const tp = new Uint8Array(BME280_CALIB_TP_LENGTH);
  const h = new Uint8Array(BME280_CALIB_H_LENGTH);
  const a = new DataView(tp.buffer);
  const b = new DataView(h.buffer);
  a.setUint16(0, cal.digT1, true);
  a.setInt16(2, cal.digT2, true);
  a.setInt16(4, cal.digT3, true);
  a.setUint16(6, cal.digP1, true);
  const pressureTrims = [
    cal.digP2,
    cal.digP3,
    cal.digP4,
    cal.digP5,
    cal.digP6,
    cal.digP7,
    cal.digP8,
    cal.digP9,
  ];
  for (const [i, v] of pressureTrims.entries()) a.setInt16(8 + 2 * i, v, true);
  a.setUint8(25, cal.digH1);
  b.setInt16(0, cal.digH2, true);
  b.setUint8(2, cal.digH3);
  b.setInt8(3, cal.digH4 >> 4);
  b.setUint8(4, ((cal.digH5 & 0x0f) << 4) | (cal.digH4 & 0x0f));
  b.setInt8(5, cal.digH5 >> 4);
  b.setInt8(6, cal.digH6);
  return { tp, h };
}

/** §8.1 `BME280_compensate_T_double`: °C, and the integer `t_fine` the other two formulas need. */
export function compensateTemperature(
  adcT: number,
  cal: Bme280Calibration,
): { temperatureC: number; tFine: number } {
  const d = adcT / 16384 - cal.digT1 / 1024;
  const var1 = d * cal.digT2;
  const e = adcT / 131072 - cal.digT1 / 8192;
  const var2 = e * e * cal.digT3;
  return { temperatureC: (var1 + var2) / 5120, tFine: Math.trunc(var1 + var2) };
}

/** §8.1 `BME280_compensate_P_double`: Pa. `NaN` when dig_P1 is 0 (the datasheet returns 0 there). */
export function compensatePressure(adcP: number, tFine: number, cal: Bme280Calibration): number {
  let var1 = tFine / 2 - 64000;
  let var2 = (var1 * var1 * cal.digP6) / 32768;
  var2 = var2 + var1 * cal.digP5 * 2;
  var2 = var2 / 4 + cal.digP4 * 65536;
  var1 = ((cal.digP3 * var1 * var1) / 524288 + cal.digP2 * var1) / 524288;
  var1 = (1 + var1 / 32768) * cal.digP1;
  if (var1 === 0) return Number.NaN;
  let p = 1048576 - adcP;
  p = ((p - var2 / 4096) * 6250) / var1;
  var1 = (cal.digP9 * p * p) / 2147483648;
  var2 = (p * cal.digP8) / 32768;
  return p + (var1 + var2 + cal.digP7) / 16;
}

/** §8.1 `bme280_compensate_H_double`: %RH, clamped to 0–100 as the datasheet does. */
export function compensateHumidity(adcH: number, tFine: number, cal: Bme280Calibration): number {
  const t = tFine - 76800;
  let h =
    (adcH - (cal.digH4 * 64 + (cal.digH5 / 16384) * t)) *
    ((cal.digH2 / 65536) * (1 + (cal.digH6 / 67108864) * t * (1 + (cal.digH3 / 67108864) * t)));
  h = h * (1 - (cal.digH1 * h) / 524288);
  return Math.min(100, Math.max(0, h));
}
