/**
 * The CRC-8 Sensirion puts after every 16-bit word (SHT3x-DIS datasheet §4.12, Table 19): polynomial
 * 0x31 (x⁸ + x⁵ + x⁴ + 1), initial value 0xFF, no reflection, no final XOR. Datasheet example:
 * CRC(0xBEEF) = 0x92. Shared by the SHT3x driver and its simulated chip.
 */

export function crc8Sensirion(bytes: Uint8Array | readonly number[]): number {
  let crc = 0xff;
  for (const b of bytes) {
    crc ^= b;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}
