/**
 * The primary units of the IANA "SenML Units" registry — the only names a SenML version 10 pack may
 * carry in `u`/`bu` — and which of them the agent produces. A point's unit is one of `PRODUCED_UNITS`
 * or none; values are converted into that unit where they are read (the drivers), so what telemetry
 * sends in `u` always matches its value and every SenML receiver understands it.
 *
 * Sources, read from the documents (not from another implementation):
 *  - RFC 8428 §12.1, Table 6: the initial registry.
 *  - RFC 8798 §2: the primary units added after it. (RFC 8798 §3 creates a *separate* registry of
 *    secondary units — `ms`, `kWh`, `hPa`, `ug/m3`, `ppm`, … — which may appear in `u` only in packs
 *    that declare the secondary-units feature (RFC 9100, through `bver`). The agent does not: its packs
 *    stay version 10, so no secondary unit is ever produced.)
 *  - RFC 9193 registers SenML labels (`ct`, `bct`), no units.
 * The registry's later expert-review entries (e.g. `NTU`) are left out until checked against IANA's
 * own table; an unlisted unit is refused, never sent.
 *
 * Units marked with an asterisk in the registry "are NOT RECOMMENDED to be produced by new
 * implementations but are in active use and SHOULD be implemented by consumers" (RFC 8428 §12.1; RFC
 * 8798 §2.1 marks `deg` the same way because the coherent SI unit is `rad`). The agent never produces
 * them; `NOT_RECOMMENDED_UNITS` names the unit it uses instead.
 */

/** RFC 8428 §12.1, Table 6, in the table's order. */
export const RFC8428_UNITS = [
  'm',
  'kg',
  'g',
  's',
  'A',
  'K',
  'cd',
  'mol',
  'Hz',
  'rad',
  'sr',
  'N',
  'Pa',
  'J',
  'W',
  'C',
  'V',
  'F',
  'Ohm',
  'S',
  'Wb',
  'T',
  'H',
  'Cel',
  'lm',
  'lx',
  'Bq',
  'Gy',
  'Sv',
  'kat',
  'm2',
  'm3',
  'l',
  'm/s',
  'm/s2',
  'm3/s',
  'l/s',
  'W/m2',
  'cd/m2',
  'bit',
  'bit/s',
  'lat',
  'lon',
  'pH',
  'dB',
  'dBW',
  'Bspl',
  'count',
  '/',
  '%',
  '%RH',
  '%EL',
  'EL',
  '1/s',
  '1/min',
  'beat/min',
  'beats',
  'S/m',
] as const;

/** RFC 8798 §2, "New Primary Units". */
export const RFC8798_UNITS = ['B', 'VA', 'VAs', 'var', 'vars', 'J/m', 'kg/m3', 'deg'] as const;

/** Every primary unit of the registry this module knows (see the header for what is left out). */
export const SENML_UNITS = [...RFC8428_UNITS, ...RFC8798_UNITS] as const;

export type RegisteredUnit = (typeof SENML_UNITS)[number];

/**
 * The asterisked units, each with the registered unit the agent produces instead. `%` is not a
 * percentage but the ratio itself (RFC 8428 §12.1, Note 2), hence `/`; `Bspl` (bel) has no unscaled
 * counterpart for a sound pressure level other than `dB`.
 */
export const NOT_RECOMMENDED_UNITS = {
  g: 'kg',
  l: 'm3',
  'l/s': 'm3/s',
  Bspl: 'dB',
  '%': '/',
  '1/min': '1/s',
  'beat/min': '1/s',
  beats: 'count',
  deg: 'rad',
} as const satisfies Partial<Record<RegisteredUnit, RegisteredUnit>>;

/** A unit the agent may put on a point and in `u`: registered, primary, and recommended. */
export type SenmlUnit = Exclude<RegisteredUnit, keyof typeof NOT_RECOMMENDED_UNITS>;

function isProduced(u: RegisteredUnit): u is SenmlUnit {
  return !Object.hasOwn(NOT_RECOMMENDED_UNITS, u);
}

/** The units a point may have, in registry order (for configuration schemas). */
export const PRODUCED_UNITS = SENML_UNITS.filter(isProduced) as readonly SenmlUnit[] as readonly [
  SenmlUnit,
  ...SenmlUnit[],
];

const REGISTERED: ReadonlySet<string> = new Set(SENML_UNITS);
const PRODUCED: ReadonlySet<string> = new Set(PRODUCED_UNITS);

/** A primary unit of the registry, recommended or not. */
export function isRegisteredUnit(u: string): u is RegisteredUnit {
  return REGISTERED.has(u);
}

/** A unit the agent may produce: registered, primary, and not NOT RECOMMENDED. */
export function isSenmlUnit(u: string): u is SenmlUnit {
  return PRODUCED.has(u);
}
