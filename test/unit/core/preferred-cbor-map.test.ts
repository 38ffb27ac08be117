/**
 * The status maps in RFC 8949 §4.1 preferred serialization: "the shortest form of encoding the
 * argument" for every head, and floats in the shortest of half, single and double precision that
 * preserves the value. Expected bytes are written by hand from RFC 8949 Appendix A's examples, never
 * produced by our encoder.
 */
import { describe, expect, it } from 'vitest';
import { encodePreferredMap } from '../../../agent/core/preferred-cbor-map.js';
import { concatBytes } from '../../support/concat-bytes.js';
import { cbor, hexBytes } from '../../support/hand-cbor.js';

const one = (value: number) => encodePreferredMap({ v: value });
/** `{"v": <item>}` around the hand-written item. */
const expected = (itemHex: string) => hexBytes(`a1 61 76 ${itemHex}`);

describe('encodePreferredMap', () => {
  it('writes the map length in the head byte itself, not as b9 00 NN', () => {
    const bytes = encodePreferredMap({ state: 'online', boot: '0000002a-9f3b1c07', version: '0.1.0' });
    expect(bytes[0]).toBe(0xa3);
    expect(bytes).toEqual(
      concatBytes([
        hexBytes('a3'),
        cbor.tstr('state'),
        cbor.tstr('online'),
        cbor.tstr('boot'),
        cbor.tstr('0000002a-9f3b1c07'),
        cbor.tstr('version'),
        cbor.tstr('0.1.0'),
      ]),
    );
  });

  it.each([
    // RFC 8949 Appendix A: value → encoding
    [0, '00'],
    [23, '17'],
    [24, '18 18'],
    [100, '18 64'],
    [1000, '19 03 e8'],
    [1000000, '1a 00 0f 42 40'],
    [1000000000000, '1b 00 00 00 e8 d4 a5 10 00'],
    [-1, '20'],
    [-1000, '39 03 e7'],
  ])('writes the integer %d as an integer with the shortest argument (%s)', (value, hex) => {
    expect(one(value)).toEqual(expected(hex));
  });

  it('writes a millisecond time (above 2^32) as an 8-byte unsigned integer, not a 64-bit float', () => {
    // 1768465811123 = 0x0000019bc0c6c6b3
    expect(one(1768465811123)).toEqual(expected('1b 00 00 01 9b c0 c6 c6 b3'));
  });

  it.each([
    // RFC 8949 Appendix A: value → encoding (preferred: the shortest float that preserves the value)
    [1.5, 'f9 3e 00'],
    [0.00006103515625, 'f9 04 00'],
    [3.4028234663852886e38, 'fa 7f 7f ff ff'],
    [1.1, 'fb 3f f1 99 99 99 99 99 9a'],
    [2 ** -24, 'f9 00 01'], // 5.960464477539063e-8, the smallest positive half
    [-4.1, 'fb c0 10 66 66 66 66 66 66'],
    [1.0e300, 'fb 7e 37 e4 3c 88 00 75 9c'],
  ])('writes %s, not a safe integer, as the shortest exact float (%s)', (value, hex) => {
    expect(one(value)).toEqual(expected(hex));
  });

  it('writes booleans as simple values and leaves undefined fields out', () => {
    expect(encodePreferredMap({ a: true, b: undefined, c: false })).toEqual(hexBytes('a2 61 61 f5 61 63 f4'));
  });

  it('uses a one-byte length head from 24 keys on', () => {
    const fields = Object.fromEntries(
      Array.from({ length: 24 }, (_, i) => [`k${String(i).padStart(2, '0')}`, i]),
    );
    expect(encodePreferredMap(fields).subarray(0, 2)).toEqual(hexBytes('b8 18'));
  });
});
