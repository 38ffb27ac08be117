/** The CLI's size and duration options follow agent/core/units.ts, the same rule as configuration. */
import { describe, expect, it } from 'vitest';
import { parseByteCount, parseDurationS } from '../../../../agent/cli/shared/parse-args.js';
import { telemetrySchema } from '../../../../agent/telemetry/telemetry-schema.js';

describe('parseByteCount', () => {
  it.each([
    ['1048576', 1_048_576],
    ['64K', 65_536],
    ['1M', 1_048_576],
    ['1MiB', 1_048_576],
    ['1MB', 1_000_000],
  ])('reads --chunk %s as %d bytes, as configuration does', (text, bytes) => {
    expect(parseByteCount('--chunk', text)).toBe(bytes);
    expect(telemetrySchema.parse({ budget: text }).budget).toBe(bytes);
  });

  it.each(['0', '1KB', '1mb', 'lots'])('rejects --chunk %s naming the option', (text) => {
    expect(() => parseByteCount('--chunk', text)).toThrow(/--chunk/);
  });
});

describe('parseDurationS', () => {
  it.each([
    ['60', 60],
    ['60s', 60],
    ['5m', 300],
    ['2h', 7200],
    ['1d', 86_400],
    ['2000ms', 2],
  ])('reads --ttl %s as %d s', (text, seconds) => {
    expect(parseDurationS('--ttl', text)).toBe(seconds);
  });

  it.each(['0', '0s', '1500ms', '5 min', 'soon'])('rejects --ttl %s naming the option', (text) => {
    expect(() => parseDurationS('--ttl', text)).toThrow(/--ttl/);
  });
});
