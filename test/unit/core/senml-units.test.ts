/**
 * The unit tables against the standards' own text, typed here from the documents — not from our code:
 * RFC 8428 §12.1 Table 6 (the symbols, with the asterisks of its "NOT RECOMMENDED to be produced"
 * entries), RFC 8798 §2 (new primary units) and RFC 8798 §3 (the secondary units, which a version 10
 * pack may not carry in `u`).
 */
import { describe, expect, it } from 'vitest';
import {
  isRegisteredUnit,
  isSenmlUnit,
  NOT_RECOMMENDED_UNITS,
  PRODUCED_UNITS,
  RFC8428_UNITS,
  RFC8798_UNITS,
  SENML_UNITS,
} from '../../../agent/core/senml-units.js';

/** RFC 8428 Table 6, row by row; a trailing `*` is the table's asterisk. */
const RFC8428_TABLE_6 = `
  m kg g* s A K cd mol Hz rad sr N Pa J W C V F Ohm S Wb T H Cel lm lx Bq Gy Sv kat m2 m3 l* m/s m/s2
  m3/s l/s* W/m2 cd/m2 bit bit/s lat lon pH dB dBW Bspl* count / %* %RH %EL EL 1/s 1/min* beat/min*
  beats* S/m`;

/** RFC 8798 §2, "New Primary Units" (`deg` carries the asterisk: the coherent SI unit is rad). */
const RFC8798_PRIMARY = 'B VA VAs var vars J/m kg/m3 deg*';

/** RFC 8798 §3, the initial secondary units registry: never primary, so never in `u` of our packs. */
const RFC8798_SECONDARY = `
  ms min h MHz kW kVA kvar Ah Wh kWh varh kvarh kVAh Wh/km KiB GB Mbit/s B/s MB/s mV mA dBm ug/m3 mm/h
  m/h ppm /100 /1000 hPa mm cm km km/h`;

const symbols = (table: string) => table.trim().split(/\s+/);
const names = (table: string) => symbols(table).map((s) => s.replace(/\*$/, ''));
const asterisked = (table: string) =>
  symbols(table)
    .filter((s) => s.endsWith('*'))
    .map((s) => s.slice(0, -1));

describe('SenML units (IANA registry, primary units only)', () => {
  it('lists RFC 8428 Table 6 and RFC 8798 §2, in their order, and nothing else', () => {
    expect([...RFC8428_UNITS]).toEqual(names(RFC8428_TABLE_6));
    expect([...RFC8798_UNITS]).toEqual(names(RFC8798_PRIMARY));
    expect([...SENML_UNITS]).toEqual([...names(RFC8428_TABLE_6), ...names(RFC8798_PRIMARY)]);
  });

  it('holds no secondary unit (RFC 8798 §3): none is registered, none may be produced', () => {
    for (const u of names(RFC8798_SECONDARY)) {
      expect(isRegisteredUnit(u), u).toBe(false);
      expect(isSenmlUnit(u), u).toBe(false);
    }
  });

  it('marks exactly the asterisked units NOT RECOMMENDED, and never produces them', () => {
    const starred = [...asterisked(RFC8428_TABLE_6), ...asterisked(RFC8798_PRIMARY)];
    expect(Object.keys(NOT_RECOMMENDED_UNITS).sort()).toEqual([...starred].sort());
    for (const u of starred) {
      expect(isRegisteredUnit(u), u).toBe(true);
      expect(isSenmlUnit(u), u).toBe(false);
    }
  });

  it('names, for each NOT RECOMMENDED unit, a produced unit to use instead', () => {
    expect(NOT_RECOMMENDED_UNITS).toMatchObject({
      g: 'kg',
      l: 'm3',
      'l/s': 'm3/s',
      '%': '/',
      '1/min': '1/s',
      'beat/min': '1/s',
      beats: 'count',
      deg: 'rad',
    });
    for (const instead of Object.values(NOT_RECOMMENDED_UNITS)) expect(isSenmlUnit(instead)).toBe(true);
  });

  it('produces every other registered unit, %RH and %EL included', () => {
    const starred = new Set([...asterisked(RFC8428_TABLE_6), ...asterisked(RFC8798_PRIMARY)]);
    const expected = [...names(RFC8428_TABLE_6), ...names(RFC8798_PRIMARY)].filter((u) => !starred.has(u));
    expect([...PRODUCED_UNITS]).toEqual(expected);
    expect(['%RH', '%EL', 'kg/m3', 'Pa', 'J', '/'].every(isSenmlUnit)).toBe(true);
  });

  it('refuses names in no registry and is case-sensitive (RFC 8428 §12.1 rule 9)', () => {
    for (const u of ['gravity', 'dps', 'mbar', 'mT', 'ft', 'mph', 'fahrenheit', 'PA', 'cel', 'KG/M3', '']) {
      expect(isRegisteredUnit(u), u).toBe(false);
    }
  });
});
