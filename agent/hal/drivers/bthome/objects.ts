/**
 * The BTHome v2 object table (https://bthome.io/format, "Sensor data", "Binary sensor data", "Events",
 * "Device information"; cross-checked against the reference parser, Bluetooth-Devices/bthome-ble
 * `const.py`). v2 objects carry no length, so an id missing from this table ends decoding of the
 * packet: everything after it is unreadable. Integers are little-endian; a value is `raw × factor`.
 *
 * `property` names the channel a driver publishes (snake_case; one property, one unit: the binary
 * "power" is `power_on`, the binary "gas"/"moisture" are `gas_detected`/`moisture_detected`, distance
 * in mm is `distance_mm`). `unit` is the SenML unit when the registry has one for the object as sent;
 * objects in units SenML lacks (pounds, µS/cm, m³/h, mL) carry none rather than a wrong one.
 */
import type { SenmlUnit } from '../../../core/senml-units.js';

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
  n(0x04, 'pressure', 3, 0.01, 'hPa'),
  n(0x05, 'illuminance', 3, 0.01, 'lx'),
  n(0x06, 'mass', 2, 0.01, 'kg'),
  n(0x07, 'mass_lb', 2, 0.01),
  n(0x08, 'dewpoint', 2, 0.01, 'Cel', true),
  n(0x09, 'count', 1, 1, 'count'),
  n(0x0a, 'energy', 3, 0.001, 'kWh'),
  n(0x0b, 'power', 3, 0.01, 'W'),
  n(0x0c, 'voltage', 2, 0.001, 'V'),
  n(0x0d, 'pm2_5', 2, 1, 'ug/m3'),
  n(0x0e, 'pm10', 2, 1, 'ug/m3'),
  b(0x0f, 'generic'),
  b(0x10, 'power_on'),
  b(0x11, 'opening'),
  n(0x12, 'co2', 2, 1, 'ppm'),
  n(0x13, 'tvoc', 2, 1, 'ug/m3'),
  n(0x14, 'moisture', 2, 0.01, '%'),
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
  n(0x2f, 'moisture', 1, 1, '%'),
  { id: 0x3a, property: 'button', kind: 'button', bytes: 1 },
  { id: 0x3c, property: 'dimmer', kind: 'dimmer', bytes: 2 },
  n(0x3d, 'count', 2, 1, 'count'),
  n(0x3e, 'count', 4, 1, 'count'),
  n(0x3f, 'rotation', 2, 0.1, 'deg', true),
  n(0x40, 'distance_mm', 2, 1, 'mm'),
  n(0x41, 'distance', 2, 0.1, 'm'),
  n(0x42, 'duration', 3, 0.001, 's'),
  n(0x43, 'current', 2, 0.001, 'A'),
  n(0x44, 'speed', 2, 0.01, 'm/s'),
  n(0x45, 'temperature', 2, 0.1, 'Cel', true),
  n(0x46, 'uv_index', 1, 0.1),
  n(0x47, 'volume', 2, 0.1, 'l'),
  n(0x48, 'volume_ml', 2, 1),
  n(0x49, 'volume_flow_rate', 2, 0.001),
  n(0x4a, 'voltage', 2, 0.1, 'V'),
  n(0x4b, 'gas', 3, 0.001, 'm3'),
  n(0x4c, 'gas', 4, 0.001, 'm3'),
  n(0x4d, 'energy', 4, 0.001, 'kWh'),
  n(0x4e, 'volume', 4, 0.001, 'l'),
  n(0x4f, 'water', 4, 0.001, 'l'),
  n(0x50, 'timestamp', 4, 1),
  n(0x51, 'acceleration', 2, 0.001, 'm/s2'),
  n(0x52, 'gyroscope', 2, 0.001, 'dps'),
  { id: 0x53, property: 'text', kind: 'text', bytes: 0 },
  { id: 0x54, property: 'raw', kind: 'raw', bytes: 0 },
  n(0x55, 'volume_storage', 4, 0.001, 'l'),
  n(0x56, 'conductivity', 2, 1),
  n(0x57, 'temperature', 1, 1, 'Cel', true),
  n(0x58, 'temperature', 1, 0.35, 'Cel', true),
  n(0x59, 'count', 1, 1, 'count', true),
  n(0x5a, 'count', 2, 1, 'count', true),
  n(0x5b, 'count', 4, 1, 'count', true),
  n(0x5c, 'power', 4, 0.01, 'W', true),
  n(0x5d, 'current', 2, 0.001, 'A', true),
  n(0x5e, 'direction', 2, 0.01, 'deg'),
  n(0x5f, 'precipitation', 2, 0.1, 'mm'),
  n(0x60, 'channel', 1, 1),
  n(0x61, 'rotational_speed', 2, 1, '1/min'),
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
