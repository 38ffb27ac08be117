/**
 * Signed payloads (update manifests, trust roots) are CBOR maps with text keys. This module encodes
 * them deterministically (RFC 8949 §4.2.1: shortest heads, keys sorted by their encoded bytes, integers
 * beyond 32 bits as uint64 rather than cbor-x's float) and decodes them strictly: well-formed, no tags,
 * no floats, no duplicate keys, bounded size — then lets a schema read typed fields, reporting the first
 * problem as a reason naming the field. Integers arrive as numbers or, beyond 32 bits, bigints; both are
 * accepted when they are safe integers.
 */
import { Decoder } from 'cbor-x';
import { scanCbor } from '../core/cbor-scan.js';
import { plainCbor } from '../core/cose.js';

export type PayloadValue = string | number | boolean | Uint8Array | readonly PayloadValue[];

const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/** Encodes a text-keyed map; `undefined` values are left out. */
export function encodePayloadMap<K extends string>(fields: Record<K, PayloadValue | undefined>): Uint8Array {
  const entries = Object.entries<PayloadValue | undefined>(fields)
    .filter((e): e is [string, PayloadValue] => e[1] !== undefined)
    // Deterministic key order for text keys: by encoded length, then bytewise (keys are ASCII).
    .sort(([a], [b]) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => [k, toCborValue(v)] as const);
  return new Uint8Array(plainCbor.encode(new Map(entries)));
}

function toCborValue(v: PayloadValue): unknown {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v > 0xffffffff) return BigInt(v);
    if (Number.isInteger(v) && v < -0x100000000) return BigInt(v);
    return v;
  }
  if (Array.isArray(v)) return v.map(toCborValue);
  return v;
}

export class PayloadError extends Error {}

/**
 * Reads typed fields out of a decoded map; each getter throws PayloadError naming the field. `K` is the
 * payload's key table (manifest.ts `MANIFEST_KEYS`, trust.ts `TRUST_ROOT_KEYS`): a schema can only ask
 * for a key that is in it, and every other key present is refused as unknown.
 */
export class PayloadFields<K extends string = string> {
  readonly #map: Map<string, unknown>;
  readonly #seen = new Set<string>();

  constructor(map: Map<string, unknown>) {
    this.#map = map;
  }

  #get(key: K, required: boolean): unknown {
    this.#seen.add(key);
    const v = this.#map.get(key);
    if (v === undefined && required) throw new PayloadError(`missing field "${key}"`);
    return v;
  }

  uint(key: K, opts: { min?: number } = {}): number {
    return this.#uint(key, this.#get(key, true), opts.min ?? 0)!;
  }

  optUint(key: K, opts: { min?: number } = {}): number | undefined {
    return this.#uint(key, this.#get(key, false), opts.min ?? 0);
  }

  #uint(key: K, v: unknown, min: number): number | undefined {
    if (v === undefined) return undefined;
    const n = typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
      throw new PayloadError(`field "${key}" must be an integer >= ${min} (at most 2^53 - 1)`);
    }
    return n;
  }

  text(key: K, pattern: RegExp, maxLength: number): string {
    return this.#text(key, this.#get(key, true), pattern, maxLength)!;
  }

  optText(key: K, pattern: RegExp, maxLength: number): string | undefined {
    return this.#text(key, this.#get(key, false), pattern, maxLength);
  }

  #text(key: K, v: unknown, pattern: RegExp, maxLength: number): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new PayloadError(`field "${key}" must be a text string`);
    if (v.length === 0 || v.length > maxLength) {
      throw new PayloadError(`field "${key}" must be 1..${maxLength} characters`);
    }
    if (!pattern.test(v)) throw new PayloadError(`field "${key}" has characters outside ${pattern}`);
    return v;
  }

  bytes(key: K, length: number): Uint8Array {
    return checkBytes(key, this.#get(key, true), length);
  }

  /** A required array of `itemOf(value, index)`, with `minItems..maxItems` entries. */
  array<T>(key: K, minItems: number, maxItems: number, itemOf: (v: unknown, index: number) => T): T[] {
    return this.#array(key, this.#get(key, true), minItems, maxItems, itemOf)!;
  }

  optArray<T>(key: K, minItems: number, maxItems: number, itemOf: (v: unknown, i: number) => T) {
    return this.#array(key, this.#get(key, false), minItems, maxItems, itemOf);
  }

  #array<T>(
    key: K,
    v: unknown,
    minItems: number,
    maxItems: number,
    itemOf: (v: unknown, index: number) => T,
  ): T[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new PayloadError(`field "${key}" must be an array`);
    if (v.length < minItems || v.length > maxItems) {
      throw new PayloadError(`field "${key}" must have ${minItems}..${maxItems} entries, has ${v.length}`);
    }
    return v.map(itemOf);
  }

  /** The value of a field that must equal one of `allowed`. */
  oneOf<T extends string | number>(key: K, allowed: readonly T[]): T {
    const v = this.#get(key, true);
    if (!allowed.includes(v as T)) {
      throw new PayloadError(
        `field "${key}" must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
      );
    }
    return v as T;
  }

  /** Fields present that no getter asked for. */
  unknownKeys(): string[] {
    return [...this.#map.keys()].filter((k) => !this.#seen.has(k));
  }
}

export function checkBytes(key: string, v: unknown, length: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) {
    throw new PayloadError(`field "${key}" must be a ${length}-byte string`);
  }
  return new Uint8Array(v);
}

/**
 * Decodes and reads a payload map with `read`; never throws on hostile bytes. Unknown keys are rejected:
 * a signer's constraint that this version does not understand must not be silently dropped.
 */
export function decodePayloadMap<T, K extends string = string>(
  bytes: Uint8Array,
  limits: { maxBytes: number; maxItems: number },
  read: (fields: PayloadFields<K>) => T,
): { ok: true; value: T } | { ok: false; reason: string } {
  const scan = scanCbor(bytes, { ...limits, maxDepth: 4 });
  if (!scan.ok) return { ok: false, reason: `malformed CBOR payload: ${scan.reason}` };
  try {
    const decoded: unknown = decoder.decode(bytes);
    if (!(decoded instanceof Map)) return { ok: false, reason: 'payload is not a CBOR map' };
    for (const k of decoded.keys()) {
      if (typeof k !== 'string') return { ok: false, reason: 'payload map keys must be text strings' };
    }
    const fields = new PayloadFields<K>(decoded as Map<string, unknown>);
    const value = read(fields);
    const unknown = fields.unknownKeys();
    if (unknown.length > 0) {
      return { ok: false, reason: `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}` };
    }
    return { ok: true, value };
  } catch (e) {
    if (e instanceof PayloadError) return { ok: false, reason: e.message };
    return { ok: false, reason: `undecodable payload: ${e instanceof Error ? e.message : String(e)}` };
  }
}
