/**
 * A flat CBOR map with text keys in RFC 8949 §4.1 preferred serialization, for the small status
 * messages the agent publishes (`status`, OTA status): the shortest length head (`a3`, never cbor-x's
 * `b9 00 03` for a map written from an object), integers as integers of the shortest width — millisecond
 * times too (`1b` + 8 bytes), not as 64-bit floats — and fractions as the shortest exact float. Keys
 * keep their insertion order (preferred, not deterministic, serialization); an `undefined` value leaves
 * its key out, as JSON does.
 */
import { CborWriter } from './cbor-writer.js';

export type PreferredCborValue = string | number | boolean | undefined;

export function encodePreferredMap(fields: Readonly<Record<string, PreferredCborValue>>): Uint8Array {
  const entries = Object.entries(fields).filter(
    (e): e is [string, string | number | boolean] => e[1] !== undefined,
  );
  const w = new CborWriter();
  w.mapHeader(entries.length);
  for (const [key, value] of entries) {
    w.text(key);
    if (typeof value === 'string') w.text(value);
    else if (typeof value === 'boolean') w.bool(value);
    else if (typeof value === 'number') w.integerOrFloat(value);
    else throw new TypeError(`${key} must be text, a number or a boolean`);
  }
  return w.bytes();
}
