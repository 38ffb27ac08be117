import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSenmlUnit } from '../../../../../agent/core/senml-units.js';
import { decodeBthome, scale } from '../../../../../agent/hal/drivers/bthome/decode.js';
import { type BthomeObjectValue, encodeBthome } from '../../../../../agent/hal/drivers/bthome/encode.js';
import { BTHOME_OBJECTS } from '../../../../../agent/hal/drivers/bthome/objects.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replaceAll(' ', ''), 'hex'));

/** The key, MAC and payloads of the encryption example (bthome.io/encryption; bthome-ble tests). */
const BINDKEY = hex('231d39c1d7cc1ab1aee224cd096db932');
const MAC = '54:48:E6:8F:80:A5';
const ENCRYPTED_EXAMPLE = hex('41 a47266c95f73 00112233 78237214');

function ok(data: Uint8Array, options = {}) {
  const result = decodeBthome(data, options);
  if (!result.ok) throw new Error(`expected a packet, got ${result.reason}: ${result.message}`);
  return result.packet;
}

function values(data: Uint8Array, options = {}) {
  return Object.fromEntries(ok(data, options).measurements.map((m) => [m.property, m.value]));
}

describe('BTHome v2 decode', () => {
  it('decodes the format page example: 25.00 °C, 50.55 %RH', () => {
    // 020106 0B094449592D73656E736F72 0A16D2FC4002C40903BF13 — the service data after UUID D2FC:
    const packet = ok(hex('40 02c409 03bf13'));
    expect(packet).toEqual({
      encrypted: false,
      triggerBased: false,
      packetId: undefined,
      counter: undefined,
      measurements: [
        { objectId: 0x02, property: 'temperature', value: 25, unit: 'Cel' },
        { objectId: 0x03, property: 'humidity', value: 50.55, unit: '%RH' },
      ],
      stopped: undefined,
    });
  });

  it.each([
    ['01 61', 'battery', 97, '%EL'],
    ['02 ca09', 'temperature', 25.06, 'Cel'],
    ['03 bf13', 'humidity', 50.55, '%RH'],
    ['2e 23', 'humidity', 35, '%RH'],
    // Values in primary SenML units: BTHome's own unit and value in the comment (bthome.io/format).
    ['04 138a01', 'pressure', 100883, 'Pa'], // 1008.83 hPa
    ['05 138a14', 'illuminance', 13460.67, 'lx'],
    ['06 5e1f', 'mass', 80.3, 'kg'],
    ['07 3e1d', 'mass', 33.9559248182, 'kg'], // 74.86 lb × 0.45359237
    ['08 ca06', 'dewpoint', 17.38, 'Cel'],
    ['09 60', 'count', 96, 'count'],
    ['0a 138a14', 'energy', 4845841200, 'J'], // 1346.067 kWh
    ['0d 120c', 'pm2_5', 3.09e-6, 'kg/m3'], // 3090 µg/m³
    ['0e 0200', 'pm10', 2e-9, 'kg/m3'], // 2 µg/m³
    ['13 3301', 'tvoc', 3.07e-7, 'kg/m3'], // 307 µg/m³
    ['12 e204', 'co2', 0.00125, '/'], // 1250 ppm
    ['14 020c', 'moisture', 0.3074, '/'], // 30.74 %
    ['2f 23', 'moisture', 0.35, '/'], // 35 %
    ['3d 0960', 'count', 24585, 'count'],
    ['3e 2a2c0960', 'count', 1611213866, 'count'],
    ['40 0c00', 'distance', 0.012, 'm'], // 12 mm
    ['41 4e00', 'distance', 7.8, 'm'],
    ['42 4e3400', 'duration', 13.39, 's'],
    ['43 4e34', 'current', 13.39, 'A'],
    ['4b 138a14', 'gas', 1346.067, 'm3'],
    ['4c 41018a01', 'gas', 25821.505, 'm3'],
    ['4d 12138a14', 'energy', 1240535412000, 'J'], // 344593.17 kWh
    ['47 8756', 'volume', 2.2151, 'm3'], // 2215.1 L
    ['48 dc87', 'volume', 0.03478, 'm3'], // 34780 mL
    ['4e 87562000', 'volume', 2.119303, 'm3'], // 2119.303 L
    ['4f 87562000', 'water', 2.119303, 'm3'], // 2119.303 L
    ['55 87562000', 'volume_storage', 2.119303, 'm3'], // 2119.303 L
    ['56 8756', 'conductivity', 2.2151, 'S/m'], // 22151 µS/cm
    ['5f 3c00', 'precipitation', 0.006, 'm'], // 6.0 mm
    ['61 3c00', 'rotational_speed', 1, '1/s'], // 60 rpm
    ['52 020c', 'gyroscope', 3.074, undefined], // °/s: SenML has no angular-velocity unit
    ['0c 020c', 'voltage', 3.074, 'V'],
    ['45 1601', 'temperature', 27.8, 'Cel'],
    ['45 f0ff', 'temperature', -1.6, 'Cel'],
    ['02 0cfe', 'temperature', -5, 'Cel'],
    ['58 ff', 'temperature', -0.35, 'Cel'],
    ['0f 01', 'generic', true, undefined],
    ['2d 01', 'window', true, undefined],
    ['1a 00', 'door', false, undefined],
    ['3a 01', 'button', 'press', undefined],
    ['3a 04', 'button', 'long_press', undefined],
    ['3a 80', 'button', 'hold_press', undefined],
    ['3c 0103', 'dimmer', -3, undefined],
    ['3c 0205', 'dimmer', 5, undefined],
    ['53 0548656c6c6f', 'text', 'Hello', undefined],
    ['54 03c0ffee', 'raw', 'c0ffee', undefined],
    ['f1 04030201', 'firmware_version', '1.2.3.4', undefined],
    ['f2 000106', 'firmware_version', '6.1.0', undefined],
  ] as const)('object %s is %s = %s', (object, property, value, unit) => {
    expect(ok(hex(`40 ${object}`)).measurements).toEqual([
      { objectId: hex(object)[0], property, value, unit },
    ]);
  });

  it.each([
    ['3f 020c', 'rotation', (307.4 * Math.PI) / 180], // 307.4°
    ['5e 3075', 'direction', (300 * Math.PI) / 180], // 300.00°
  ] as const)('object %s is %s in rad', (object, property, radians) => {
    const [m] = ok(hex(`40 ${object}`)).measurements;
    expect(m).toMatchObject({ property, unit: 'rad' });
    expect(m?.value).toBeCloseTo(radians, 12);
  });

  it('object 49 is a volume flow rate in m3/s (34.780 m³/h)', () => {
    const [m] = ok(hex('40 49 dc87')).measurements;
    expect(m).toMatchObject({ property: 'volume_flow_rate', unit: 'm3/s' });
    expect(m?.value).toBeCloseTo(34.78 / 3600, 15);
  });

  it('gives every object with a unit a primary SenML unit a producer may use', () => {
    for (const spec of BTHOME_OBJECTS.values()) {
      if (spec.unit !== undefined) expect(isSenmlUnit(spec.unit), `0x${spec.id.toString(16)}`).toBe(true);
    }
  });

  it('decodes a Shelly BLU H&T Display packet (bthome-ble test vector)', () => {
    const packet = ok(hex('40 002e 0164 1e01 2e34 451601'));
    expect(packet.packetId).toBe(46);
    expect(values(hex('40 002e 0164 1e01 2e34 451601'))).toEqual({
      battery: 100,
      light: true,
      humidity: 52,
      temperature: 27.8,
    });
  });

  it('reads the trigger-based flag', () => {
    expect(ok(hex('44 3a01')).triggerBased).toBe(true);
    expect(ok(hex('40 3a01')).triggerBased).toBe(false);
  });

  it('names a repeated property temperature, temperature_2, …', () => {
    expect(ok(hex('40 02ca09 02c409 45 1601')).measurements.map((m) => m.property)).toEqual([
      'temperature',
      'temperature_2',
      'temperature_3',
    ]);
  });

  it('skips an included MAC (device information bit 1) and uses it for the nonce', () => {
    // the advertiser's MAC follows the information byte, reversed: a5 80 8f e6 48 54 is 54:48:E6:8F:80:A5
    expect(values(hex('42 a5808fe64854 02ca09'))).toEqual({ temperature: 25.06 });
    const info = 0x43;
    const nonce = Buffer.concat([hex('5448e68f80a5'), Uint8Array.of(0xd2, 0xfc, info), hex('00112233')]);
    const cipher = createCipheriv('aes-128-ccm', BINDKEY, nonce, { authTagLength: 4 });
    const ciphertext = Buffer.concat([cipher.update(hex('02ca09 03bf13')), cipher.final()]);
    const data = Buffer.concat([
      Uint8Array.of(info),
      hex('a5808fe64854'),
      ciphertext,
      hex('00112233'),
      cipher.getAuthTag(),
    ]);
    // No address option: the one in the packet is used.
    expect(values(data, { bindkey: BINDKEY })).toEqual({ temperature: 25.06, humidity: 50.55 });
  });

  describe('encryption (AES-128-CCM)', () => {
    it('decrypts the example of the encryption page: 25.06 °C, 50.55 %RH, counter 0x33221100', () => {
      const packet = ok(ENCRYPTED_EXAMPLE, { bindkey: BINDKEY, address: MAC });
      expect(packet.encrypted).toBe(true);
      expect(packet.counter).toBe(0x33221100);
      expect(values(ENCRYPTED_EXAMPLE, { bindkey: BINDKEY, address: MAC })).toEqual({
        temperature: 25.06,
        humidity: 50.55,
      });
    });

    it('decrypts the reference receiver test vectors, counter 1122867 and 1122868', () => {
      const a = ok(hex('41 e445f3c9962b 33221100 6c7c4519'), { bindkey: BINDKEY, address: MAC });
      const b = ok(hex('41 3e932cc7175f 34221100 553876af'), { bindkey: BINDKEY, address: MAC });
      expect([a.counter, b.counter]).toEqual([1122867, 1122868]);
      expect(a.measurements.map((m) => m.value)).toEqual([25.06, 50.55]);
    });

    it('encrypts the example to exactly its published bytes', () => {
      const objects: BthomeObjectValue[] = [
        { id: 0x02, value: 25.06 },
        { id: 0x03, value: 50.55 },
      ];
      expect(
        encodeBthome(objects, { encryption: { bindkey: BINDKEY, address: MAC, counter: 0x33221100 } }),
      ).toEqual(ENCRYPTED_EXAMPLE);
    });
  });

  describe('rejects', () => {
    const wrongKey = hex('814aac74c4f17b6c1581e1ab87816b99');
    const tampered = Uint8Array.from(ENCRYPTED_EXAMPLE);
    tampered[2] = tampered[2]! ^ 0x01;
    const withKey = { bindkey: BINDKEY, address: MAC };

    it.each([
      ['empty service data', hex(''), {}, 'empty'],
      ['version 0', hex('00 02ca09'), {}, 'version'],
      ['version 7 (bthome-ble vector)', hex('e1 0200 0c04 04138a01'), {}, 'version'],
      ['version 1 layout', hex('23 02ca09'), {}, 'version'],
      ['an encrypted packet without a key', ENCRYPTED_EXAMPLE, {}, 'encrypted-without-key'],
      [
        'the wrong key (bthome-ble vector)',
        ENCRYPTED_EXAMPLE,
        { bindkey: wrongKey, address: MAC },
        'decrypt-failed',
      ],
      [
        'the right key for another address',
        ENCRYPTED_EXAMPLE,
        { bindkey: BINDKEY, address: 'a4:c1:38:8d:18:b2' },
        'decrypt-failed',
      ],
      ['a flipped ciphertext bit', tampered, withKey, 'decrypt-failed'],
      ['a plaintext packet when a key is set (downgrade)', hex('40 04138a01'), withKey, 'not-encrypted'],
      [
        'an encrypted packet too short to hold counter and MIC',
        hex('41 ba0db07aeef600'),
        withKey,
        'too-short',
      ],
      ['a MAC-included packet shorter than a MAC', hex('42 a5808f'), {}, 'too-short'],
    ] as const)('%s', (_name, data, options, reason) => {
      const result = decodeBthome(data, options);
      expect(result).toMatchObject({ ok: false, reason });
      expect(result.ok ? '' : result.message).not.toBe('');
    });

    it('stops at an unknown object id and says where (bthome-ble vector 0xFE)', () => {
      expect(ok(hex('40 fe ca09'))).toMatchObject({
        measurements: [],
        stopped: { reason: 'unknown-object', objectId: 0xfe, offset: 0 },
      });
    });

    it('keeps the objects before an unknown one', () => {
      const packet = ok(hex('40 0009 02ca09 fe 0102'));
      expect(packet.packetId).toBe(9);
      expect(packet.measurements.map((m) => m.property)).toEqual(['temperature']);
      expect(packet.stopped).toEqual({ reason: 'unknown-object', objectId: 0xfe, offset: 5 });
    });

    it('stops at an object cut short', () => {
      expect(ok(hex('40 03bf13 02ca'))).toMatchObject({
        measurements: [{ property: 'humidity' }],
        stopped: { reason: 'truncated-object', objectId: 0x02, offset: 3 },
      });
      expect(ok(hex('40 53 09 4869'))).toMatchObject({
        stopped: { reason: 'truncated-object', objectId: 0x53 },
      });
    });
  });

  it('throws TypeError for caller mistakes, naming them', () => {
    expect(() => decodeBthome(hex('40'), { bindkey: hex('00') })).toThrow(/bindkey/);
    expect(() => decodeBthome(ENCRYPTED_EXAMPLE, { bindkey: BINDKEY })).toThrow(/address/);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong type, as JavaScript could pass
    expect(() => decodeBthome('40' as any)).toThrow(TypeError);
  });

  it('scales without floating-point noise', () => {
    expect(scale(2506, 0.01)).toBe(25.06);
    expect(scale(1346067, 0.001)).toBe(1346.067);
    expect(scale(-1, 0.35)).toBe(-0.35);
    expect(scale(12, 1e-9)).toBe(1.2e-8);
    expect(scale(1346067, 0.001 * 3.6e6)).toBe(4845841200);
  });

  const numberSpecs = [...BTHOME_OBJECTS.values()].filter((s) => s.kind === 'number' && s.id !== 0x00);
  const objectValue = fc.constantFrom(...numberSpecs).chain((spec) => {
    const span = 2 ** (8 * spec.bytes);
    const [min, max] = spec.signed ? [-span / 2, span / 2 - 1] : [0, span - 1];
    return fc.integer({ min, max }).map((raw) => ({ spec, raw }));
  });

  it('decodes what it encodes, for any numeric objects, plain or encrypted (property)', () => {
    fc.assert(
      fc.property(
        fc.array(objectValue, { minLength: 1, maxLength: 6 }),
        fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
        (objects, counter) => {
          const input = objects.map(({ spec, raw }) => ({
            id: spec.id,
            value: scale(raw, spec.factor ?? 1),
          }));
          const encryption = counter === undefined ? undefined : { bindkey: BINDKEY, address: MAC, counter };
          const data = encodeBthome(input, encryption ? { encryption } : {});
          const packet = ok(data, encryption ? { bindkey: BINDKEY, address: MAC } : {});
          expect(packet.measurements.map((m) => [m.objectId, m.value])).toEqual(
            input.map((o) => [o.id, o.value]),
          );
          expect(packet.counter).toBe(counter);
        },
      ),
    );
  });

  it('never throws on untrusted bytes, with or without a key (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (data, keyed) => {
        const result = decodeBthome(data, keyed ? { bindkey: BINDKEY, address: MAC } : { address: MAC });
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});
