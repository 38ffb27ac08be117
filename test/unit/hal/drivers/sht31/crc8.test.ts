import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc8Sensirion } from '../../../../../agent/hal/drivers/sht31/crc8.js';

describe('crc8Sensirion', () => {
  it('gives 0x92 for 0xBEEF, the datasheet example (SHT3x-DIS Table 19)', () => {
    expect(crc8Sensirion(Uint8Array.of(0xbe, 0xef))).toBe(0x92);
  });

  it('gives 0x81 for 0x0000 and 0xFF for no data (the initial value)', () => {
    expect(crc8Sensirion([0x00, 0x00])).toBe(0x81);
    expect(crc8Sensirion([])).toBe(0xff);
  });

  it('leaves a zero remainder over any message followed by its own CRC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (data) => {
        expect(crc8Sensirion([...data, crc8Sensirion(data)])).toBe(0);
      }),
    );
  });
});
