/**
 * SenML units from the IANA "SenML Units" registry (RFC 8428 §12.1, extended by RFC 8798). A point's
 * unit must be one of these so that any SenML consumer understands it; there is no free text.
 */
export const SENML_UNITS = [
  // RFC 8428
  'm', 'kg', 'g', 's', 'A', 'K', 'cd', 'mol', 'Hz', 'rad', 'sr', 'N', 'Pa', 'J', 'W', 'C', 'V', 'F', 'Ohm',
  'S', 'Wb', 'T', 'H', 'Cel', 'lm', 'lx', 'Bq', 'Gy', 'Sv', 'kat', 'm2', 'm3', 'l', 'm/s', 'm/s2', 'm3/s',
  'l/s', 'W/m2', 'cd/m2', 'bit', 'bit/s', 'lat', 'lon', 'pH', 'dB', 'dBW', 'Bspl', 'count', '/', '%', '%RH',
  '%EL', 'EL', '1/s', '1/min', 'beat/min', 'beats', 'S/m',
  // RFC 8798
  'B', 'VA', 'VAs', 'var', 'vars', 'J/m', 'kg/m3', 'deg', 'NTU', 'ms', 'min', 'h', 'MHz', 'kW', 'kVA',
  'kvar', 'Ah', 'Wh', 'kWh', 'varh', 'kvarh', 'kVAh', 'Wh/km', 'KiB', 'GB', 'Mbit/s', 'B/s', 'MB/s', 'mV',
  'mA', 'dBm', 'ug/m3', 'mm/h', 'm/h', 'ppm', '/100', '/1000', 'hPa', 'mm', 'cm', 'km', 'km/h', 'gravity',
  'dps', 'mbar', 'mT', 'Gs', 'mGs', 'ft', 'in', 'mi', 'kt', 'mph', 'fahrenheit',
] as const;

export type SenmlUnit = (typeof SENML_UNITS)[number];

const UNIT_SET: ReadonlySet<string> = new Set(SENML_UNITS);

export function isSenmlUnit(u: string): u is SenmlUnit {
  return UNIT_SET.has(u);
}
