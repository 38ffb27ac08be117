/**
 * Command arguments and results cross the fleet channel as plain CBOR (RFC 8949, no tags, text-keyed
 * maps). `fromCbor` turns a strictly scanned, decoded value into the plain objects command schemas
 * expect (maps with text keys become objects; integers beyond 2^53 are refused). `toCbor` turns any
 * command result into something that encodes to that same plain CBOR: `undefined` fields are left out
 * (and become null in arrays), dates become ISO text, functions and symbols disappear, cycles and
 * nesting past `MAX_DEPTH` become the text "…", so the fleet's strict decoder reads what we send.
 */

export const MAX_DEPTH = 16;

export class CborValueError extends Error {}

export function fromCbor(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new CborValueError(`nested deeper than ${MAX_DEPTH}`);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) {
      if (typeof k !== 'string') throw new CborValueError('argument map keys must be text strings');
      if (k === '__proto__') throw new CborValueError('argument key "__proto__" is not allowed');
      out[k] = fromCbor(v, depth + 1);
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => fromCbor(v, depth + 1));
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new CborValueError('integer out of the safe range (2^53)');
    }
    return Number(value);
  }
  return value;
}

export function toCbor(value: unknown, depth = 0, seen = new Set<object>()): unknown {
  if (
    value === null ||
    typeof value === 'boolean' ||
    typeof value === 'string' ||
    typeof value === 'bigint'
  ) {
    return value;
  }
  if (typeof value === 'number') return value;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value !== 'object') return String(value);
  if (depth >= MAX_DEPTH || seen.has(value)) return '…';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => toCbor(v, depth + 1, seen) ?? null);
    const entries: [string, unknown][] = [];
    const source: Iterable<[unknown, unknown]> =
      value instanceof Map ? value : Object.entries(value as Record<string, unknown>);
    for (const [k, v] of source) {
      const converted = toCbor(v, depth + 1, seen);
      if (converted !== undefined) entries.push([String(k), converted]);
    }
    return new Map(entries);
  } finally {
    seen.delete(value);
  }
}
