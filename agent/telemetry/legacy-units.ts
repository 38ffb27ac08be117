/**
 * Units that earlier versions of the agent wrote into the outbox but no longer produce: secondary
 * units (RFC 8798 §3), the registry's NOT RECOMMENDED units (RFC 8428 §12.1) and a few names in no
 * registry. A stored part that carries one is not quarantined — its readings were accepted and must
 * still be delivered — but converted when it is read, so what is sent is a primary unit whose value
 * matches: `value × scale + offset` in `unit`, the same rule as the secondary-units registry.
 *
 * Scales for secondary units are the registry's (RFC 8798 §3); the others follow from the units'
 * definitions (NIST SP 811 Appendix B). `dps` (degrees per second) has no primary counterpart — SenML
 * has no angular-velocity unit — so such readings keep their value and lose the unit rather than
 * carry a wrong one, as the BTHome driver now publishes them.
 */
import { NOT_RECOMMENDED_UNITS, type SenmlUnit } from '../core/senml-units.js';

export interface UnitConversion {
  /** The primary unit to send instead, or undefined: send the value without a unit. */
  readonly unit: SenmlUnit | undefined;
  readonly scale: number;
  readonly offset: number;
}

const to = (unit: SenmlUnit | undefined, scale: number, offset = 0): UnitConversion => ({
  unit,
  scale,
  offset,
});

const DEG = Math.PI / 180;

export const LEGACY_UNITS: Readonly<Record<string, UnitConversion>> = {
  // RFC 8428 §12.1: NOT RECOMMENDED (asterisked), and the unit produced instead
  g: to(NOT_RECOMMENDED_UNITS.g, 1e-3),
  l: to(NOT_RECOMMENDED_UNITS.l, 1e-3),
  'l/s': to(NOT_RECOMMENDED_UNITS['l/s'], 1e-3),
  Bspl: to(NOT_RECOMMENDED_UNITS.Bspl, 10),
  // Earlier agents put percentages (0–100) under `%`, which RFC 8428 Note 2 defines as the ratio.
  '%': to(NOT_RECOMMENDED_UNITS['%'], 0.01),
  '1/min': to(NOT_RECOMMENDED_UNITS['1/min'], 1 / 60),
  'beat/min': to(NOT_RECOMMENDED_UNITS['beat/min'], 1 / 60),
  beats: to(NOT_RECOMMENDED_UNITS.beats, 1),
  deg: to(NOT_RECOMMENDED_UNITS.deg, DEG),
  // RFC 8798 §3, the secondary units registry
  ms: to('s', 1e-3),
  min: to('s', 60),
  h: to('s', 3600),
  MHz: to('Hz', 1e6),
  kW: to('W', 1e3),
  kVA: to('VA', 1e3),
  kvar: to('var', 1e3),
  Ah: to('C', 3600),
  Wh: to('J', 3600),
  kWh: to('J', 3.6e6),
  varh: to('vars', 3600),
  kvarh: to('vars', 3.6e6),
  kVAh: to('VAs', 3.6e6),
  'Wh/km': to('J/m', 3.6),
  KiB: to('B', 1024),
  GB: to('B', 1e9),
  'Mbit/s': to('bit/s', 1e6),
  'B/s': to('bit/s', 8),
  'MB/s': to('bit/s', 8e6),
  mV: to('V', 1e-3),
  mA: to('A', 1e-3),
  dBm: to('dBW', 1, -30),
  'ug/m3': to('kg/m3', 1e-9),
  'mm/h': to('m/s', 1 / 3.6e6),
  'm/h': to('m/s', 1 / 3600),
  ppm: to('/', 1e-6),
  '/100': to('/', 0.01),
  '/1000': to('/', 0.001),
  hPa: to('Pa', 100),
  mm: to('m', 1e-3),
  cm: to('m', 1e-2),
  km: to('m', 1e3),
  'km/h': to('m/s', 1 / 3.6),
  // In no registry
  gravity: to('m/s2', 9.80665),
  dps: to(undefined, 1),
  mbar: to('Pa', 100),
  mT: to('T', 1e-3),
  Gs: to('T', 1e-4),
  mGs: to('T', 1e-7),
  ft: to('m', 0.3048),
  in: to('m', 0.0254),
  mi: to('m', 1609.344),
  kt: to('m/s', 1852 / 3600),
  mph: to('m/s', 0.44704),
  fahrenheit: to('Cel', 5 / 9, -160 / 9),
};

export function legacyUnit(u: string): UnitConversion | undefined {
  return Object.hasOwn(LEGACY_UNITS, u) ? LEGACY_UNITS[u] : undefined;
}

/** `value × scale + offset`, rounded to 15 significant digits so 9 × 1e-9 stays 9e-9. */
export function convertValue(value: number, c: UnitConversion): number {
  return Number((value * c.scale + c.offset).toPrecision(15));
}
