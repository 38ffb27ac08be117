/**
 * The BTHome v2 object table (https://bthome.io/format, "Sensor data", "Binary sensor data", "Events",
 * "Device information"; cross-checked against the reference parser, Bluetooth-Devices/bthome-ble
 * `const.py`). v2 objects carry no length, so an id missing from this table ends decoding of the
 * packet: everything after it is unreadable. Integers are little-endian; a value is `raw × factor`.
 *
 * Values are converted where they are read: `factor` is BTHome's resolution times the conversion from
 * the unit BTHome sends into a primary SenML unit (agent/core/senml-units.ts), and `unit` is that
 * primary unit — a pressure in 0.01 hPa steps is published in Pa (factor 1), energy in 0.001 kWh steps
 * in J (factor 3600), a PM2.5 in µg/m³ in kg/m³ (factor 1e-9), a percentage moisture as the ratio `/`.
 * So `u` in telemetry is always a primary unit whose value matches, and never a secondary one.
 *
 * `property` names the channel a driver publishes (snake_case; one property, one unit: the binary
 * "power" is `power_on`, the binary "gas"/"moisture" are `gas_detected`/`moisture_detected`; BTHome's
 * distance in mm, mass in lb and volume in mL are the same `distance`, `mass`, `volume` as their metric
 * siblings once converted). Objects with no SenML unit (a UV index, a gyroscope in °/s — SenML has no
 * angular velocity) carry none rather than a wrong one.
 */
import type { SenmlUnit } from '../../../core/senml-units.js';

/** BTHome's units in primary SenML units (NIST SP 811 Appendix B; RFC 8798 §3 scales where listed). */
const HPA_IN_PA = 100;
const KWH_IN_J = 3.6e6;
const UG_PER_M3_IN_KG_PER_M3 = 1e-9;
const PPM_AS_RATIO = 1e-6;
const PERCENT_AS_RATIO = 0.01;
const MM_IN_M = 1e-3;
const L_IN_M3 = 1e-3;
const ML_IN_M3 = 1e-6;
const LB_IN_KG = 0.45359237;
const DEG_IN_RAD = Math.PI / 180;
const PER_MIN_IN_PER_S = 1 / 60;
const M3_PER_H_IN_M3_PER_S = 1 / 3600;
const US_PER_CM_IN_S_PER_M = 1e-4;

export type BthomeObjectKind =
  /** An integer measurement (`signed` or not), scaled by `factor`. */
  | 'number'
  /** A binary sensor: 0 = false, 1 = true. */
  | 'binary'
  /** A button event: one byte naming what happened (`BUTTON_EVENTS`). */
  | 'button'
  /** A dimmer event: direction byte then a step count; published as signed steps (left < 0). */
  | 'dimmer'
  /** UTF-8 text, length-prefixed. */
  | 'text'
  /** Raw bytes, length-prefixed; published as lowercase hex. */
  | 'raw'
  /** A firmware version: bytes most significant last, published as `a.b.c(.d)`. */
  | 'version';

export interface BthomeObjectSpec {
  readonly id: number;
  readonly property: string;
  readonly kind: BthomeObjectKind;
  /** Payload bytes (for `text`/`raw`: 0, the length byte says). */
  readonly bytes: number;
  readonly signed?: boolean;
  readonly factor?: number;
  readonly unit?: SenmlUnit;
}

const n = (
  id: number,
  property: string,
  bytes: number,
  factor: number,
  unit?: SenmlUnit,
  signed = false,
): BthomeObjectSpec => ({ id, property, kind: 'number', bytes, factor, signed, ...(unit ? { unit } : {}) });
const b = (id: number, property: string): BthomeObjectSpec => ({ id, property, kind: 'binary', bytes: 1 });

const OBJECTS: readonly BthomeObjectSpec[] = [
  n(0x00, 'packet_id', 1, 1),
  n(0x01, 'battery', 1, 1, '%EL'),
  n(0x02, 'temperature', 2, 0.01, 'Cel', true),
  n(0x03, 'humidity', 2, 0.01, '%RH'),
  n(0x04, 'pressure', 3, 0.01 * HPA_IN_PA, 'Pa'),
  n(0x05, 'illuminance', 3, 0.01, 'lx'),
  n(0x06, 'mass', 2, 0.01, 'kg'),
  n(0x07, 'mass', 2, 0.01 * LB_IN_KG, 'kg'),
  n(0x08, 'dewpoint', 2, 0.01, 'Cel', true),
  n(0x09, 'count', 1, 1, 'count'),
  n(0x0a, 'energy', 3, 0.001 * KWH_IN_J, 'J'),
  n(0x0b, 'power', 3, 0.01, 'W'),
  n(0x0c, 'voltage', 2, 0.001, 'V'),
  n(0x0d, 'pm2_5', 2, UG_PER_M3_IN_KG_PER_M3, 'kg/m3'),
  n(0x0e, 'pm10', 2, UG_PER_M3_IN_KG_PER_M3, 'kg/m3'),
  b(0x0f, 'generic'),
  b(0x10, 'power_on'),
  b(0x11, 'opening'),
  n(0x12, 'co2', 2, PPM_AS_RATIO, '/'),
  n(0x13, 'tvoc', 2, UG_PER_M3_IN_KG_PER_M3, 'kg/m3'),
  n(0x14, 'moisture', 2, 0.01 * PERCENT_AS_RATIO, '/'),
  b(0x15, 'battery_low'),
  b(0x16, 'battery_charging'),
  b(0x17, 'carbon_monoxide'),
  b(0x18, 'cold'),
  b(0x19, 'connectivity'),
  b(0x1a, 'door'),
  b(0x1b, 'garage_door'),
  b(0x1c, 'gas_detected'),
  b(0x1d, 'heat'),
  b(0x1e, 'light'),
  b(0x1f, 'lock'),
  b(0x20, 'moisture_detected'),
  b(0x21, 'motion'),
  b(0x22, 'moving'),
  b(0x23, 'occupancy'),
  b(0x24, 'plug'),
  b(0x25, 'presence'),
  b(0x26, 'problem'),
  b(0x27, 'running'),
  b(0x28, 'safety'),
  b(0x29, 'smoke'),
  b(0x2a, 'sound'),
  b(0x2b, 'tamper'),
  b(0x2c, 'vibration'),
  b(0x2d, 'window'),
  n(0x2e, 'humidity', 1, 1, '%RH'),
  n(0x2f, 'moisture', 1, PERCENT_AS_RATIO, '/'),
  { id: 0x3a, property: 'button', kind: 'button', bytes: 1 },
  { id: 0x3c, property: 'dimmer', kind: 'dimmer', bytes: 2 },
  n(0x3d, 'count', 2, 1, 'count'),
  n(0x3e, 'count', 4, 1, 'count'),
  n(0x3f, 'rotation', 2, 0.1 * DEG_IN_RAD, 'rad', true),
  n(0x40, 'distance', 2, MM_IN_M, 'm'),
  n(0x41, 'distance', 2, 0.1, 'm'),
  n(0x42, 'duration', 3, 0.001, 's'),
  n(0x43, 'current', 2, 0.001, 'A'),
  n(0x44, 'speed', 2, 0.01, 'm/s'),
  n(0x45, 'temperature', 2, 0.1, 'Cel', true),
  n(0x46, 'uv_index', 1, 0.1),
  n(0x47, 'volume', 2, 0.1 * L_IN_M3, 'm3'),
  n(0x48, 'volume', 2, ML_IN_M3, 'm3'),
  n(0x49, 'volume_flow_rate', 2, 0.001 * M3_PER_H_IN_M3_PER_S, 'm3/s'),
  n(0x4a, 'voltage', 2, 0.1, 'V'),
  n(0x4b, 'gas', 3, 0.001, 'm3'),
  n(0x4c, 'gas', 4, 0.001, 'm3'),
  n(0x4d, 'energy', 4, 0.001 * KWH_IN_J, 'J'),
  n(0x4e, 'volume', 4, 0.001 * L_IN_M3, 'm3'),
  n(0x4f, 'water', 4, 0.001 * L_IN_M3, 'm3'),
  n(0x50, 'timestamp', 4, 1),
  n(0x51, 'acceleration', 2, 0.001, 'm/s2'),
  n(0x52, 'gyroscope', 2, 0.001),
  { id: 0x53, property: 'text', kind: 'text', bytes: 0 },
  { id: 0x54, property: 'raw', kind: 'raw', bytes: 0 },
  n(0x55, 'volume_storage', 4, 0.001 * L_IN_M3, 'm3'),
  n(0x56, 'conductivity', 2, US_PER_CM_IN_S_PER_M, 'S/m'),
  n(0x57, 'temperature', 1, 1, 'Cel', true),
  n(0x58, 'temperature', 1, 0.35, 'Cel', true),
  n(0x59, 'count', 1, 1, 'count', true),
  n(0x5a, 'count', 2, 1, 'count', true),
  n(0x5b, 'count', 4, 1, 'count', true),
  n(0x5c, 'power', 4, 0.01, 'W', true),
  n(0x5d, 'current', 2, 0.001, 'A', true),
  n(0x5e, 'direction', 2, 0.01 * DEG_IN_RAD, 'rad'),
  n(0x5f, 'precipitation', 2, 0.1 * MM_IN_M, 'm'),
  n(0x60, 'channel', 1, 1),
  n(0x61, 'rotational_speed', 2, PER_MIN_IN_PER_S, '1/s'),
  n(0x62, 'speed', 4, 0.000001, 'm/s', true),
  n(0x63, 'acceleration', 4, 0.000001, 'm/s2', true),
  n(0xf0, 'device_type', 2, 1),
  { id: 0xf1, property: 'firmware_version', kind: 'version', bytes: 4 },
  { id: 0xf2, property: 'firmware_version', kind: 'version', bytes: 3 },
];

export const BTHOME_OBJECTS: ReadonlyMap<number, BthomeObjectSpec> = new Map(
  OBJECTS.map((spec) => [spec.id, spec]),
);

/** Button event codes (bthome.io/format, "Events"). */
export const BUTTON_EVENTS: ReadonlyMap<number, string> = new Map([
  [0x00, 'none'],
  [0x01, 'press'],
  [0x02, 'double_press'],
  [0x03, 'triple_press'],
  [0x04, 'long_press'],
  [0x05, 'long_double_press'],
  [0x06, 'long_triple_press'],
  [0x80, 'hold_press'],
]);
