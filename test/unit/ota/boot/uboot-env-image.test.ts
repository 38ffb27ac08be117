import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  currentCopy,
  decodeEnvImage,
  type EnvCopy,
  encodeEnvImage,
  parseFwEnvConfig,
} from '../../../../agent/ota/boot/uboot-env-image.js';

const vars = new Map([
  ['BOOT_ORDER', 'A B'],
  ['BOOT_A_LEFT', '3'],
  ['bootargs', 'console=ttyS0,115200 root=/dev/mmcblk0p2'],
]);

describe('the U-Boot environment image', () => {
  it('is a little-endian CRC-32 of the data area, then sorted name=value\\0 entries', () => {
    const image = encodeEnvImage(vars, 96, false);
    expect(image.readUInt32LE(0)).toBe(crc32(image.subarray(4)));
    expect(image.subarray(4, 18).toString('latin1')).toBe('BOOT_A_LEFT=3\0');
    expect(decodeEnvImage(image, false)).toEqual({ valid: true, flags: 0, vars: new Map([...vars].sort()) });
  });

  it('carries a flags byte after the CRC when redundant, outside the CRC', () => {
    const image = encodeEnvImage(vars, 128, true, 7);
    expect(image[4]).toBe(7);
    expect(image.readUInt32LE(0)).toBe(crc32(image.subarray(5)));
    expect(decodeEnvImage(image, true)).toMatchObject({ valid: true, flags: 7 });
  });

  it('reports a copy with a bad CRC as invalid and reads no variables from it', () => {
    const image = encodeEnvImage(vars, 96, false);
    image[10]! ^= 1;
    expect(decodeEnvImage(image, false)).toEqual({ valid: false, flags: 0, vars: new Map() });
    expect(decodeEnvImage(new Uint8Array(3), false).valid).toBe(false);
  });

  it('refuses an environment that does not fit', () => {
    expect(() => encodeEnvImage(vars, 32, false)).toThrow(RangeError);
    expect(() => encodeEnvImage(new Map([['a=b', '1']]), 64, false)).toThrow(TypeError);
    expect(() => encodeEnvImage(new Map([['a', 'x\ny']]), 64, false)).toThrow(TypeError);
  });

  it("picks the current copy by libubootenv's rules: valid CRC, then the greater flags with 255→0 wrap", () => {
    const c = (valid: boolean, flags: number): EnvCopy => ({ valid, flags, vars: new Map() });
    expect(currentCopy([c(true, 1)])).toBe(0);
    expect(currentCopy([c(false, 1)])).toBe(-1);
    expect(currentCopy([c(true, 5), c(false, 6)])).toBe(0);
    expect(currentCopy([c(false, 5), c(true, 4)])).toBe(1);
    expect(currentCopy([c(false, 5), c(false, 6)])).toBe(-1);
    expect(currentCopy([c(true, 5), c(true, 6)])).toBe(1);
    expect(currentCopy([c(true, 6), c(true, 6)])).toBe(0);
    expect(currentCopy([c(true, 255), c(true, 0)])).toBe(1);
    expect(currentCopy([c(true, 0), c(true, 255)])).toBe(0);
  });
});

describe('fw_env.config', () => {
  it('reads device, offset (C integer) and size (always hex), one or two lines', () => {
    expect(
      parseFwEnvConfig('# comment\n/dev/mmcblk0 0x3f8000 0x4000 0x200\n/dev/mmcblk0 0x3fc000 4000\n\n'),
    ).toEqual([
      { device: '/dev/mmcblk0', offset: 0x3f8000, sizeBytes: 0x4000 },
      { device: '/dev/mmcblk0', offset: 0x3fc000, sizeBytes: 0x4000 },
    ]);
    expect(parseFwEnvConfig('/boot/uboot.env 010 20\n')).toEqual([
      { device: '/boot/uboot.env', offset: 8, sizeBytes: 32 },
    ]);
  });

  it('refuses no device, bad numbers and copies of different sizes', () => {
    expect(() => parseFwEnvConfig('# nothing\n')).toThrow(SyntaxError);
    expect(() => parseFwEnvConfig('/dev/x zz 0x4000\n')).toThrow(SyntaxError);
    expect(() => parseFwEnvConfig('/dev/x 0 0x4000\n/dev/x 0x4000 0x2000\n')).toThrow(SyntaxError);
  });
});
