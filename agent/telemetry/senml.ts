/**
 * SenML (RFC 8428) as the agent sends it: records, their CBOR representation with the standard integer
 * labels (§6, Table 4), and the JSON representation (§5). The encoder writes plain CBOR with the
 * shortest exact number encoding (cbor-writer.ts), so the §6 example encodes byte for byte as the RFC
 * prints it. The receiving side (decoding and §4.6 resolution) is not shipped: it lives with the tests
 * in test/support/senml-decode.ts.
 */
import { CborWriter } from '../core/cbor-writer.js';

/** One SenML record, with the JSON labels. Extension fields are further text keys (§4.4). */
export interface SenmlRecord {
  bn?: string;
  bt?: number;
  bu?: string;
  bv?: number;
  bs?: number;
  bver?: number;
  n?: string;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  vd?: Uint8Array;
  s?: number;
  t?: number;
  ut?: number;
  [extension: string]: unknown;
}

export type SenmlPack = readonly SenmlRecord[];

/** RFC 8428 Table 4 (CBOR labels). */
export const SENML_CBOR_LABELS = {
  bver: -1,
  bn: -2,
  bt: -3,
  bu: -4,
  bv: -5,
  bs: -6,
  n: 0,
  u: 1,
  v: 2,
  vs: 3,
  vb: 4,
  s: 5,
  t: 6,
  ut: 7,
  vd: 8,
} as const;

type Label = keyof typeof SENML_CBOR_LABELS;

const writer = new CborWriter();

/** Encodes a pack as SenML CBOR (`application/senml+cbor`). Fields keep their order in each record. */
export function encodeSenmlCbor(pack: SenmlPack): Uint8Array {
  if (!Array.isArray(pack)) throw new TypeError('pack must be an array of records');
  writer.reset();
  writeSenmlPack(writer, pack);
  return writer.bytes();
}

/** Appends a pack to a writer (for callers that build several items into one buffer). */
export function writeSenmlPack(w: CborWriter, pack: SenmlPack): void {
  w.arrayHeader(pack.length);
  for (const record of pack) {
    const entries = Object.entries(record).filter(([, value]) => value !== undefined);
    w.mapHeader(entries.length);
    for (const [label, value] of entries) {
      const key = SENML_CBOR_LABELS[label as Label];
      if (key === undefined) w.text(label);
      else w.number(key);
      writeValue(w, label, value);
    }
  }
}

function writeValue(w: CborWriter, label: string, value: unknown): void {
  if (label === 'vd') {
    if (!(value instanceof Uint8Array)) throw new TypeError('record field vd must be a Uint8Array');
    w.byteString(value);
  } else if (label === 'bver') {
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      throw new TypeError(`record field bver must be an unsigned integer, got ${String(value)}`);
    }
    w.number(value as number);
  } else if (typeof value === 'number') {
    w.number(value);
  } else if (typeof value === 'string') {
    w.text(value);
  } else if (typeof value === 'boolean') {
    w.bool(value);
  } else if (value instanceof Uint8Array) {
    w.byteString(value);
  } else {
    throw new TypeError(`record field ${label}: cannot encode ${typeof value}`);
  }
}

/** SenML JSON (`application/senml+json`, §5): the same labels, `vd` as unpadded base64url. */
export function toSenmlJson(pack: SenmlPack): string {
  return JSON.stringify(pack, (key, value) =>
    key === 'vd' && value instanceof Uint8Array ? Buffer.from(value).toString('base64url') : value,
  );
}
