/**
 * Outbox parts written by an earlier agent, whose points carried secondary or NOT RECOMMENDED units
 * (`ug/m3`, `hPa`, `l`, `%`, `dBm`, …): they are still delivered, converted to the primary unit with
 * the value to match, never quarantined and never sent with the old unit.
 */
import { describe, expect, it } from 'vitest';
import type { SenmlUnit } from '../../../agent/core/senml-units.js';
import { decodePart, encodePart, type PartContent } from '../../../agent/telemetry/stored-batch.js';

const T0 = Date.UTC(2026, 0, 15, 8, 30);
const header = { kind: 'raw', priority: 'normal', trusted: true } as const;
/** What an earlier agent's types allowed and this one's do not. */
const old = (u: string) => u as SenmlUnit;

function decoded(content: PartContent, kind: 'raw' | 'agg' = 'raw') {
  const result = decodePart(encodePart({ ...header, kind }, content));
  if (!result.ok) throw new Error(result.reason);
  return result.part.content;
}

describe('stored parts with units this agent no longer produces', () => {
  it.each([
    ['ug/m3', 35, 'kg/m3', 3.5e-8],
    ['hPa', 1008.83, 'Pa', 100883],
    ['kWh', 1.5, 'J', 5.4e6],
    ['ppm', 1250, '/', 0.00125],
    ['mm', 12, 'm', 0.012],
    ['%', 30.74, '/', 0.3074],
    ['l', 2, 'm3', 0.002],
    ['l/s', 0.05, 'm3/s', 0.00005],
    ['1/min', 60, '1/s', 1],
    ['dBm', -70, 'dBW', -100],
  ] as const)('converts a reading in %s (%s) to %s (%s)', (unit, value, primary, converted) => {
    const content = decoded({
      kind: 'raw',
      readings: [{ name: 'p', unit: old(unit), value, wallMs: T0, monoMs: 1 }],
    });
    expect(content).toMatchObject({ readings: [{ name: 'p', unit: primary, value: converted }] });
  });

  it('converts min, max and mean of an aggregate, and leaves its count', () => {
    const content = decoded(
      {
        kind: 'agg',
        aggregates: [
          {
            name: 'air.pm2_5',
            unit: old('ug/m3'),
            min: 9,
            max: 12,
            mean: 10.5,
            count: 8,
            wallMs: T0,
            monoMs: 1,
          },
        ],
        readings: [{ name: 'air.pm2_5', unit: old('ug/m3'), value: 11, wallMs: T0, monoMs: 1 }],
      },
      'agg',
    );
    expect(content).toMatchObject({
      aggregates: [{ unit: 'kg/m3', min: 9e-9, max: 1.2e-8, mean: 1.05e-8, count: 8 }],
      readings: [{ unit: 'kg/m3', value: 1.1e-8 }],
    });
  });

  it('keeps text and boolean values, and readings in primary units, as they are', () => {
    const content = decoded({
      kind: 'raw',
      readings: [
        { name: 'a', unit: 'Pa', value: 101325, wallMs: T0, monoMs: 1 },
        { name: 'b', value: true, wallMs: T0, monoMs: 1 },
        { name: 'c', value: 'ok', wallMs: T0, monoMs: 1 },
      ],
    });
    expect(content).toMatchObject({
      readings: [{ unit: 'Pa', value: 101325 }, { value: true }, { value: 'ok' }],
    });
  });

  it('still refuses a unit nobody ever wrote', () => {
    const bytes = encodePart(header, {
      kind: 'raw',
      readings: [{ name: 'p', unit: old('furlong'), value: 1, wallMs: T0, monoMs: 1 }],
    });
    expect(decodePart(bytes)).toEqual({ ok: false, reason: 'unknown unit furlong' });
  });
});
