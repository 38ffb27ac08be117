/**
 * SenML against RFC 8428's own examples: the §5.1 packs round-trip through CBOR and JSON unchanged,
 * the §6 hex dump is reproduced byte for byte, and resolving §5.1.3 gives exactly §5.1.4.
 */
import { decode as cborDecode } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactHalf } from '../../../agent/core/cbor-writer.js';
import { encodeSenmlCbor, type SenmlRecord, toSenmlJson } from '../../../agent/telemetry/senml.js';
import { decodeSenmlCbor, fromSenmlJson, resolveSenml } from '../../support/senml-decode.js';

/** RFC 8428 §5.1.1 Single Datapoint. */
const RFC_5_1_1 = '[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]';
/** §5.1.2 Multiple Datapoints, first example. */
const RFC_5_1_2A =
  '[{"bn":"urn:dev:ow:10e2073a01080063:","n":"voltage","u":"V","v":120.1},{"n":"current","u":"A","v":1.2}]';
/** §5.1.2 second example: current at each second for the previous 5 seconds. */
const RFC_5_1_2B = `[
  {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,"bu":"A","bver":5,"n":"voltage","u":"V","v":120.1},
  {"n":"current","t":-5,"v":1.2},
  {"n":"current","t":-4,"v":1.3},
  {"n":"current","t":-3,"v":1.4},
  {"n":"current","t":-2,"v":1.5},
  {"n":"current","t":-1,"v":1.6},
  {"n":"current","v":1.7}
]`;
/** §5.1.3 Multiple Measurements. */
const RFC_5_1_3 = `[
  {"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,"bu":"%RH","v":20},
  {"u":"lon","v":24.30621},
  {"u":"lat","v":60.07965},
  {"t":60,"v":20.3},
  {"u":"lon","t":60,"v":24.30622},
  {"u":"lat","t":60,"v":60.07965},
  {"t":120,"v":20.7},
  {"u":"lon","t":120,"v":24.30623},
  {"u":"lat","t":120,"v":60.07966},
  {"u":"%EL","t":150,"v":98},
  {"t":180,"v":21.2},
  {"u":"lon","t":180,"v":24.30628},
  {"u":"lat","t":180,"v":60.07967}
]`;
/** §5.1.4 Resolved Data: §5.1.3 resolved. */
const RFC_5_1_4 = `[
  {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067464e+09,"v":20},
  {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067464e+09,"v":24.30621},
  {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067464e+09,"v":60.07965},
  {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067524e+09,"v":20.3},
  {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067524e+09,"v":24.30622},
  {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067524e+09,"v":60.07965},
  {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067584e+09,"v":20.7},
  {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067584e+09,"v":24.30623},
  {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067584e+09,"v":60.07966},
  {"n":"urn:dev:ow:10e2073a01080063","u":"%EL","t":1.320067614e+09,"v":98},
  {"n":"urn:dev:ow:10e2073a01080063","u":"%RH","t":1.320067644e+09,"v":21.2},
  {"n":"urn:dev:ow:10e2073a01080063","u":"lon","t":1.320067644e+09,"v":24.30628},
  {"n":"urn:dev:ow:10e2073a01080063","u":"lat","t":1.320067644e+09,"v":60.07967}
]`;
/** §5.1.5 Multiple Data Types. */
const RFC_5_1_5 = `[
  {"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},
  {"n":"label","vs":"Machine Room"},
  {"n":"open","vb":false},
  {"n":"nfc-reader","vd":"aGkgCg"}
]`;
/** §6: "a dump of the CBOR example for the same sensor measurement as in Section 5.1.2". */
const RFC_6_HEX = `
87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a
31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a
22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00
67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06
66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06
24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75
72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc
cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f
f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e
74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e
74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67
63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33
33 33 33`;

function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

function json(text: string): SenmlRecord[] {
  const parsed = fromSenmlJson(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

describe('SenML CBOR (RFC 8428 §6)', () => {
  it('encodes the §5.1.2 pack exactly as the §6 hex dump prints it', () => {
    const pack = json(RFC_5_1_2B);
    // The dump gives the last record an explicit "t": 0, which §4.5.3 makes equivalent to none.
    pack[6] = { n: 'current', t: 0, v: 1.7 };
    expect(Buffer.from(encodeSenmlCbor(pack)).toString('hex')).toBe(
      Buffer.from(hex(RFC_6_HEX)).toString('hex'),
    );
  });

  it('decodes the §6 dump into the §5.1.2 records, with 1.5 read from a half-precision float', () => {
    const decoded = decodeSenmlCbor(hex(RFC_6_HEX));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const expected = json(RFC_5_1_2B);
    expected[6] = { n: 'current', t: 0, v: 1.7 };
    expect(decoded.value).toEqual(expected);
  });

  it.each([
    ['§5.1.1', RFC_5_1_1],
    ['§5.1.2 (now)', RFC_5_1_2A],
    ['§5.1.2 (with time)', RFC_5_1_2B],
    ['§5.1.3', RFC_5_1_3],
    ['§5.1.5', RFC_5_1_5],
  ])('round-trips the %s example through CBOR and back to the same SenML JSON', async (_name, text) => {
    const pack = json(text);
    const cbor = encodeSenmlCbor(pack);
    const decoded = decodeSenmlCbor(cbor);
    expect(decoded).toEqual({ ok: true, value: pack });
    expect(JSON.parse(toSenmlJson(pack))).toEqual(JSON.parse(text));
  });

  it('writes integer labels a generic CBOR decoder reads as a plain array of maps', () => {
    const generic = cborDecode(encodeSenmlCbor(json(RFC_5_1_5))) as Record<string, unknown>[];
    // cbor-x with default options gives maps as objects; the keys are the RFC's integer labels.
    expect(generic[0]).toEqual({ '-2': 'urn:dev:ow:10e2073a01080063:', 0: 'temp', 1: 'Cel', 2: 23.1 });
    expect(generic[2]).toEqual({ 0: 'open', 4: false });
    expect(new Uint8Array(generic[3]?.[8] as Uint8Array)).toEqual(new Uint8Array(Buffer.from('hi \n')));
  });
});

describe('SenML resolution (RFC 8428 §4.6)', () => {
  it('resolves the §5.1.3 pack into exactly the §5.1.4 records', () => {
    const resolved = resolveSenml(json(RFC_5_1_3));
    expect(resolved).toEqual({ ok: true, value: json(RFC_5_1_4) });
  });

  it('makes times below 2^28 s relative to now (§4.5.3) and applies base unit and name', () => {
    const resolved = resolveSenml(json(RFC_5_1_2A), { nowS: 1_700_000_000 });
    expect(resolved).toEqual({
      ok: true,
      value: [
        { n: 'urn:dev:ow:10e2073a01080063:voltage', u: 'V', v: 120.1, t: 1_700_000_000 },
        { n: 'urn:dev:ow:10e2073a01080063:current', u: 'A', v: 1.2, t: 1_700_000_000 },
      ],
    });
  });

  it('rejects a pack with a must-understand field it does not know, and accepts it when told', () => {
    const pack: SenmlRecord[] = [{ bn: 'urn:dev:x:', n: 'a', v: 1, t: 1.7e9, tq_: 'unsynced' }];
    expect(resolveSenml(pack)).toEqual({ ok: false, reason: 'record 0: must-understand field tq_' });
    const ok = resolveSenml(pack, { understood: ['tq_'] });
    expect(ok.ok && ok.value[0]?.ext).toEqual({ tq_: 'unsynced' });
  });

  it.each([
    [[{ n: '', v: 1 }], 'record 0: invalid name ""'],
    [[{ n: '-a', v: 1 }], 'record 0: invalid name "-a"'],
    [[{ n: 'a', v: 1, vs: 'x' }], 'record 0: more than one value field'],
    [[{ n: 'a' }], 'record 0: no value and no sum'],
    [[{ n: 'a', v: 1, bver: 11 }], 'bver 11 is newer than this receiver (10)'],
  ] as [SenmlRecord[], string][])('rejects %j: %s', (pack, reason) => {
    expect(resolveSenml(pack)).toEqual({ ok: false, reason });
  });
});

describe('SenML decoding of untrusted bytes', () => {
  it.each([
    ['not CBOR at all', 'ff'],
    ['a map instead of an array', 'a100616e'],
    ['a record that is not a map', '8101'],
    ['an unknown integer label', '81a1181a01'],
    ['a known label spelled as text', '81a1616e6161'],
    ['a text value where a number belongs', '81a1026178'],
    ['a negative bver', '81a12020'],
  ])('returns a failure for %s', (_what, bytes) => {
    const result = decodeSenmlCbor(hex(bytes));
    expect(result.ok).toBe(false);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        decodeSenmlCbor(bytes);
      }),
    );
  });
});

describe('shortest exact floats', () => {
  it.each([
    [1.5, 3],
    [0.5, 3],
    [65504, 3], // the largest half
    [2 ** -24, 3], // the smallest half subnormal
    [100000, 5], // an integer: uint32
    [0.1, 9],
    [23.1, 9],
    [1.1, 9],
    [(2 - 2 ** -23) * 2 ** 127, 5], // the largest single
  ])('encodes %d in %d bytes and reads it back exactly', (value, size) => {
    const cbor = encodeSenmlCbor([{ n: 'x', v: value }]);
    // [ {0: "x", 2: value} ] = 1 + 1 + 1 + 2 + 1 + value bytes
    expect(cbor.length - 6).toBe(size);
    const decoded = decodeSenmlCbor(cbor);
    expect(decoded.ok && decoded.value[0]?.v).toBe(value);
  });

  it('round-trips every double exactly (fast-check)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const decoded = decodeSenmlCbor(encodeSenmlCbor([{ n: 'x', v: value }]));
        expect(decoded.ok && Object.is(decoded.value[0]?.v, value)).toBe(true);
      }),
    );
  });

  it('finds half precision exactly when it is exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
        const exp = (bits >> 10) & 0x1f;
        if (exp === 0x1f) return; // inf / NaN
        const mant = bits & 0x3ff;
        const sign = bits & 0x8000 ? -1 : 1;
        const value = exp === 0 ? sign * mant * 2 ** -24 : sign * (1 + mant / 1024) * 2 ** (exp - 15);
        expect(exactHalf(value)).toBe(bits);
      }),
    );
  });
});
