import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Bme280Calibration,
  compensatePressure,
  compensateTemperature,
  encodeBme280Calibration,
  parseBme280Calibration,
} from '../../../../../agent/hal/drivers/bme280/compensation.js';
import { SIM_BME280_CALIBRATION } from '../../../../../agent/hal/drivers/bme280/sim-chip.js';

describe('BME280 compensation (datasheet §8.1)', () => {
  it("reproduces the datasheet's worked example: adc_T 519888 is 25.08 °C with t_fine 128422", () => {
    const { temperatureC, tFine } = compensateTemperature(519888, SIM_BME280_CALIBRATION);
    expect(tFine).toBe(128422);
    expect(temperatureC).toBeCloseTo(25.08, 2);
  });

  it("reproduces the datasheet's worked example: adc_P 415148 is 100653.27 Pa", () => {
    const pressurePa = compensatePressure(415148, 128422, SIM_BME280_CALIBRATION);
    expect(Math.abs(pressurePa - 100653.27)).toBeLessThan(0.05);
  });

  it('decodes dig_H4 and dig_H5 from the nibbles they share in 0xE5, with the sign of their high bytes', () => {
    const tp = encodeBme280Calibration(SIM_BME280_CALIBRATION).tp;
    // E4=0x13 E5=0x92 E6=0x03: H4 = 0x13·16 + 0x2 = 306, H5 = 0x03·16 + 0x9 = 57.
    const positive = parseBme280Calibration(tp, Uint8Array.of(0x6a, 0x01, 0x00, 0x13, 0x92, 0x03, 0x1e));
    expect([positive.digH2, positive.digH4, positive.digH5, positive.digH6]).toEqual([362, 306, 57, 30]);
    // E4=0xFE E5=0x3B E6=0xF0: H4 = −2·16 + 0xB = −21, H5 = −16·16 + 0x3 = −253; E7=0xE2 is −30.
    const negative = parseBme280Calibration(tp, Uint8Array.of(0x6a, 0x01, 0x00, 0xfe, 0x3b, 0xf0, 0xe2));
    expect([negative.digH4, negative.digH5, negative.digH6]).toEqual([-21, -253, -30]);
  });

  it('decodes what it encodes, for any calibration in the registers’ ranges', () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    const s16 = fc.integer({ min: -0x8000, max: 0x7fff });
    const s12 = fc.integer({ min: -2048, max: 2047 });
    const cal = fc.record<Bme280Calibration>({
      digT1: u16,
      digT2: s16,
      digT3: s16,
      digP1: u16,
      digP2: s16,
      digP3: s16,
      digP4: s16,
      digP5: s16,
      digP6: s16,
      digP7: s16,
      digP8: s16,
      digP9: s16,
      digH1: fc.integer({ min: 0, max: 255 }),
      digH2: s16,
      digH3: fc.integer({ min: 0, max: 255 }),
      digH4: s12,
      digH5: s12,
      digH6: fc.integer({ min: -128, max: 127 }),
    });
    fc.assert(
      fc.property(cal, (c) => {
        const { tp, h } = encodeBme280Calibration(c);
        expect(parseBme280Calibration(tp, h)).toEqual(c);
      }),
    );
  });
});
