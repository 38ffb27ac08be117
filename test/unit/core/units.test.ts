/**
 * The size and duration rule (agent/core/units.ts): IEC units and bare K/M/G are 1024-based, SI units
 * 1000-based, ambiguous spellings are rejected; durations take ms/s/m/h/d or the caller's bare unit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseByteSize, parseDurationMs } from '../../../agent/core/units.js';

describe('parseByteSize', () => {
  it.each([
    ['0', 0],
    ['65536', 65_536],
    ['512B', 512],
    ['1kB', 1000],
    ['1KiB', 1024],
    ['1K', 1024],
    ['1MB', 1_000_000],
    ['1MiB', 1_048_576],
    ['1M', 1_048_576],
    ['1GB', 1_000_000_000],
    ['1GiB', 1_073_741_824],
    ['1G', 1_073_741_824],
    ['64 MiB', 64 * 1024 ** 2],
    [' 500MB ', 500_000_000],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['0.5K', 512],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toEqual({ ok: true, value: bytes });
  });

  it.each([
    ['', 'expected a size'],
    ['-1M', 'expected a size'],
    ['1.M', 'expected a size'],
    ['M', 'expected a size'],
    ['1KB', 'unknown size unit "KB"'],
    ['1kb', 'unknown size unit "kb"'],
    ['1mb', 'unknown size unit "mb"'],
    ['1mib', 'unknown size unit "mib"'],
    ['1k', 'unknown size unit "k"'],
    ['1Mb', 'unknown size unit "Mb"'],
    ['1TB', 'unknown size unit "TB"'],
    ['64 parsecs', 'unknown size unit "parsecs"'],
    ['99999999999GiB', 'too large'],
  ])('rejects %j', (text, reason) => {
    const r = parseByteSize(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it('never throws, whatever the text', () => {
    fc.assert(fc.property(fc.string(), (text) => typeof parseByteSize(text).ok === 'boolean'));
  });

  it('agrees with the plain byte count for every unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4096 }),
        fc.constantFrom('B', 'kB', 'KiB', 'K', 'MB', 'MiB', 'M'),
        (n, unit) => {
          const scale = { B: 1, kB: 1e3, KiB: 1024, K: 1024, MB: 1e6, MiB: 1024 ** 2, M: 1024 ** 2 }[unit];
          expect(parseByteSize(`${n}${unit}`)).toEqual({ ok: true, value: n * scale });
        },
      ),
    );
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['250ms', 's', 250],
    ['60', 's', 60_000],
    ['60', 'ms', 60],
    ['60s', 'ms', 60_000],
    ['5m', 's', 300_000],
    ['2h', 's', 7_200_000],
    ['1d', 's', 86_400_000],
    [' 30 s ', 's', 30_000],
  ] as const)('reads %j (bare unit %s) as %d ms', (text, bareUnit, ms) => {
    expect(parseDurationMs(text, bareUnit)).toEqual({ ok: true, value: ms });
  });

  it.each([
    ['', 'expected a duration'],
    ['1.5h', 'expected a duration'],
    ['-5s', 'expected a duration'],
    ['5 min', 'unknown duration unit "min"'],
    ['5S', 'unknown duration unit "S"'],
    ['1w', 'unknown duration unit "w"'],
    ['99999999999999d', 'too long'],
  ])('rejects %j', (text, reason) => {
    const r = parseDurationMs(text, 's');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });
});
