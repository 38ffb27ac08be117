import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodePms5003Frame,
  type Pms5003DecodeEvent,
  Pms5003FrameDecoder,
  type Pms5003Reading,
  pms5003Checksum,
} from '../../../../../agent/hal/drivers/pms5003/frame.js';
import { concatBytes } from '../../../../support/concat-bytes.js';

/**
 * A frame as shipped PMS5003 units send it in clean indoor air (data 13 = 0x97 0x00: firmware
 * version 0x97, error code 0), laid out byte by byte after the datasheet's appendix I.
 */
// biome-ignore format: the datasheet's byte layout, one field per line
const CLEAN_AIR = Uint8Array.of(
  0x42, 0x4d, // start characters
  0x00, 0x1c, // frame length 28 = 2×13 + 2
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PM1.0 / PM2.5 / PM10, CF=1
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // PM1.0 / PM2.5 / PM10, atmospheric
  0x00, 0x24, 0x00, 0x07, 0x00, 0x01, // particles > 0.3, 0.5, 1.0 µm per 0.1 L: 36, 7, 1
  0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // > 2.5, 5.0, 10 µm: 1, 1, 0
  0x97, 0x00, // data 13: reserved (version, error code)
  0x01, 0x70, // check code: 0x42+0x4d+0x1c+0x24+0x07+0x01+0x01+0x01+0x97 = 0x0170
);

/** Smoky air, every word distinct, so a swapped word cannot go unnoticed. */
// biome-ignore format: the datasheet's byte layout, one field per line
const SMOKY = Uint8Array.of(
  0x42, 0x4d, 0x00, 0x1c,
  0x00, 0x1b, 0x00, 0x2f, 0x00, 0x38, // CF=1: 27, 47, 56
  0x00, 0x1a, 0x00, 0x2b, 0x00, 0x33, // atmospheric: 26, 43, 51
  0x13, 0x88, 0x05, 0xdc, 0x01, 0x2c, // 5000, 1500, 300
  0x00, 0x3c, 0x00, 0x0a, 0x00, 0x02, // 60, 10, 2
  0x97, 0x00,
  0x04, 0x2d, // sum of the 30 bytes above = 1069 = 0x042d
);

const SMOKY_READING: Pms5003Reading = {
  pm1_0Cf1: 27,
  pm2_5Cf1: 47,
  pm10Cf1: 56,
  pm1_0Atm: 26,
  pm2_5Atm: 43,
  pm10Atm: 51,
  particles0_3: 5000,
  particles0_5: 1500,
  particles1_0: 300,
  particles2_5: 60,
  particles5_0: 10,
  particles10: 2,
  reserved: 0x9700,
};

function decodeAll(chunks: Uint8Array[]): { events: Pms5003DecodeEvent[]; decoder: Pms5003FrameDecoder } {
  const decoder = new Pms5003FrameDecoder();
  const events = chunks.flatMap((c) => decoder.push(c));
  return { events, decoder };
}

describe('PMS5003 frame', () => {
  it('the check code of the datasheet layout is the 16-bit sum of the 30 bytes before it', () => {
    expect(pms5003Checksum(CLEAN_AIR)).toBe(0x0170);
    expect(pms5003Checksum(SMOKY)).toBe(0x042d);
  });

  it('decodes a clean-air frame into its 13 words', () => {
    const { events } = decodeAll([CLEAN_AIR]);
    expect(events).toEqual([
      {
        ok: true,
        reading: {
          pm1_0Cf1: 0,
          pm2_5Cf1: 0,
          pm10Cf1: 0,
          pm1_0Atm: 0,
          pm2_5Atm: 0,
          pm10Atm: 0,
          particles0_3: 36,
          particles0_5: 7,
          particles1_0: 1,
          particles2_5: 1,
          particles5_0: 1,
          particles10: 0,
          reserved: 0x9700,
        },
      },
    ]);
  });

  it('keeps the CF=1 and the atmospheric concentrations apart', () => {
    expect(decodeAll([SMOKY]).events).toEqual([{ ok: true, reading: SMOKY_READING }]);
  });

  it('encodes exactly the bytes of the hand-built frames', () => {
    expect(encodePms5003Frame(SMOKY_READING)).toEqual(SMOKY);
    expect(
      encodePms5003Frame({
        particles0_3: 36,
        particles0_5: 7,
        particles1_0: 1,
        particles2_5: 1,
        particles5_0: 1,
        reserved: 0x9700,
      }),
    ).toEqual(CLEAN_AIR);
  });

  it('refuses to encode a value that does not fit a word, naming the field', () => {
    expect(() => encodePms5003Frame({ pm2_5Atm: 70_000 })).toThrow(/values\.pm2_5Atm/);
    expect(() => encodePms5003Frame({ pm10Cf1: 1.5 })).toThrow(RangeError);
    expect(() => encodePms5003Frame({ pm10Cf1: -1 })).toThrow(RangeError);
  });

  describe('rejects', () => {
    const badChecksum = Uint8Array.from(SMOKY);
    badChecksum[31] = 0x2e;
    const flippedData = Uint8Array.from(SMOKY);
    flippedData[9] = flippedData[9]! ^ 0x01;
    const wrongLength = Uint8Array.from(SMOKY);
    wrongLength[3] = 0x14; // a PMS3003-style 20

    it.each([
      ['a wrong check code', badChecksum, 'checksum'],
      ['a flipped data bit', flippedData, 'checksum'],
      ['a length field other than 28', wrongLength, 'length'],
    ] as const)('a frame with %s, and counts it', (_name, bytes, reason) => {
      const { events, decoder } = decodeAll([bytes]);
      expect(events[0]).toMatchObject({ ok: false, reason });
      expect(events.filter((e) => e.ok)).toEqual([]);
      expect(decoder.stats.frames).toBe(0);
      expect(reason === 'checksum' ? decoder.stats.badChecksum : decoder.stats.badLength).toBe(1);
    });

    it('a truncated frame as a bad checksum and still decodes the frame after it', () => {
      const { events, decoder } = decodeAll([SMOKY.subarray(0, 20), CLEAN_AIR]);
      expect(events.map((e) => (e.ok ? 'frame' : e.reason))).toEqual(['checksum', 'frame']);
      expect(events[1]).toMatchObject({ ok: true, reading: { particles0_3: 36 } });
      expect(decoder.stats).toMatchObject({ frames: 1, badChecksum: 1 });
    });

    it('nothing for a frame that has not fully arrived yet', () => {
      expect(decodeAll([SMOKY.subarray(0, 31)]).events).toEqual([]);
    });
  });

  it('skips garbage before a frame without calling it an error, and counts the bytes', () => {
    const garbage = Uint8Array.of(0x00, 0xff, 0x42, 0x13, 0x4d, 0x42);
    const { events, decoder } = decodeAll([concatBytes([garbage, SMOKY])]);
    expect(events).toEqual([{ ok: true, reading: SMOKY_READING }]);
    expect(decoder.stats).toEqual({ frames: 1, badChecksum: 0, badLength: 0, skippedBytes: garbage.length });
  });

  it('finds a real frame right after a false start in the noise', () => {
    const falseStart = Uint8Array.of(0x42, 0x4d, 0x00, 0x1c, 0x01, 0x02);
    const { events } = decodeAll([concatBytes([falseStart, SMOKY, CLEAN_AIR])]);
    expect(events.filter((e) => e.ok)).toEqual([
      { ok: true, reading: SMOKY_READING },
      { ok: true, reading: expect.objectContaining({ particles0_3: 36 }) },
    ]);
  });

  it('decodes a frame split across two chunks at every offset', () => {
    for (let split = 0; split <= SMOKY.length; split++) {
      const { events } = decodeAll([SMOKY.subarray(0, split), SMOKY.subarray(split)]);
      expect(events, `split at ${split}`).toEqual([{ ok: true, reading: SMOKY_READING }]);
    }
  });

  it('decodes many frames arriving in one large chunk', () => {
    const frames = Array.from({ length: 20 }, (_, i) => encodePms5003Frame({ pm2_5Atm: i }));
    const { events } = decodeAll([concatBytes(frames)]);
    expect(events.map((e) => (e.ok ? e.reading.pm2_5Atm : -1))).toEqual(frames.map((_, i) => i));
  });

  const reading = fc.record({
    pm1_0Cf1: fc.integer({ min: 0, max: 0xffff }),
    pm2_5Cf1: fc.integer({ min: 0, max: 0xffff }),
    pm10Cf1: fc.integer({ min: 0, max: 0xffff }),
    pm1_0Atm: fc.integer({ min: 0, max: 0xffff }),
    pm2_5Atm: fc.integer({ min: 0, max: 0xffff }),
    pm10Atm: fc.integer({ min: 0, max: 0xffff }),
    particles0_3: fc.integer({ min: 0, max: 0xffff }),
    particles0_5: fc.integer({ min: 0, max: 0xffff }),
    particles1_0: fc.integer({ min: 0, max: 0xffff }),
    particles2_5: fc.integer({ min: 0, max: 0xffff }),
    particles5_0: fc.integer({ min: 0, max: 0xffff }),
    particles10: fc.integer({ min: 0, max: 0xffff }),
    reserved: fc.integer({ min: 0, max: 0xffff }),
  });
  /** Noise that contains no start byte, so it cannot forge a frame start. */
  const noise = fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => (x === 0x42 ? 0x41 : x)));

  /** Splits `bytes` at the given cut points (any order, any duplicates). */
  function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const out: Uint8Array[] = [];
    let from = 0;
    for (const p of [...points, bytes.length]) {
      out.push(bytes.subarray(from, p));
      from = p;
    }
    return out;
  }

  it('any chunking of a stream of frames and noise yields the frames, in order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(noise, reading), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (parts, cuts) => {
          const stream = concatBytes(parts.flatMap(([n, r]) => [n, encodePms5003Frame(r)]));
          const { events, decoder } = decodeAll(chunk(stream, cuts));
          expect(events).toEqual(parts.map(([, r]) => ({ ok: true, reading: r })));
          expect(decoder.stats.skippedBytes).toBe(parts.reduce((n, [b]) => n + b.length, 0));
        },
      ),
    );
  });

  it('any chunking of arbitrary bytes yields the same events as one chunk (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 30 }), (bytes, cuts) => {
        const whole = decodeAll([bytes]);
        const split = decodeAll(chunk(bytes, cuts));
        expect(split.events).toEqual(whole.events);
        expect(split.decoder.stats).toEqual(whole.decoder.stats);
      }),
    );
  });
});
