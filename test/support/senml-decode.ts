/**
 * The receiving side of SenML (RFC 8428), for tests and the test telemetry backend only — the agent
 * sends SenML and never reads it. Decodes CBOR (§6) and JSON (§5) packs into records, and resolves them
 * (§4.6): base name, time, unit, value and sum folded into each record and relative times made
 * absolute. The decoder reads any well-formed pack whatever encoder made it. Extension labels (§4.4)
 * are text keys; a label ending in `_` is "must understand": `resolveSenml` rejects a pack carrying one
 * it was not told it understands, as §4.4 requires of a receiver.
 */
import { Decoder } from 'cbor-x';
import { SENML_CBOR_LABELS, type SenmlPack, type SenmlRecord } from '../../agent/telemetry/senml.js';

/** A record after §4.6 resolution: full name, absolute time, no base fields. */
export interface ResolvedRecord {
  readonly n: string;
  readonly u?: string;
  readonly v?: number;
  readonly vs?: string;
  readonly vb?: boolean;
  readonly vd?: Uint8Array;
  readonly s?: number;
  /** Absolute time, seconds since the POSIX epoch. */
  readonly t: number;
  readonly ut?: number;
  /** Extension fields, as they were in the record. */
  readonly ext?: Readonly<Record<string, unknown>>;
}

export type SenmlResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

type Label = keyof typeof SENML_CBOR_LABELS;

const LABEL_OF_KEY = new Map<number, Label>(
  Object.entries(SENML_CBOR_LABELS).map(([label, key]) => [key, label as Label]),
);

const NUMBER_LABELS = new Set<string>(['bt', 'bv', 'bs', 'v', 's', 't', 'ut']);
const TEXT_LABELS = new Set<string>(['bn', 'bu', 'n', 'u', 'vs']);

/** Times below 2^28 s are relative to "now" (§4.5.3). */
export const SENML_RELATIVE_TIME_LIMIT_S = 2 ** 28;
const DEFAULT_VERSION = 10;
/** §4.5.1: names start with a letter or digit and use `A-Z a-z 0-9 - : . / _`. */
const NAME_PATTERN = /^[A-Za-z0-9][-A-Za-z0-9:./_]*$/;

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

/**
 * Decodes SenML CBOR. Untrusted input: every problem is a result, never an exception. Checks the
 * structure and the type of every known field; semantic checks (names, one value per record) are
 * `resolveSenml`'s.
 */
export function decodeSenmlCbor(bytes: Uint8Array): SenmlResult<SenmlRecord[]> {
  let item: unknown;
  try {
    item = decoder.decode(bytes);
  } catch (e) {
    return { ok: false, reason: `not CBOR: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!Array.isArray(item)) return { ok: false, reason: 'a SenML pack is an array' };
  const pack: SenmlRecord[] = [];
  for (const [i, entry] of item.entries()) {
    if (!(entry instanceof Map)) return { ok: false, reason: `record ${i} is not a map` };
    const record: SenmlRecord = {};
    for (const [key, value] of entry) {
      let label: string;
      if (typeof key === 'number') {
        const known = LABEL_OF_KEY.get(key);
        if (!known) return { ok: false, reason: `record ${i}: unknown integer label ${key}` };
        label = known;
      } else if (typeof key === 'string') {
        if (key in SENML_CBOR_LABELS) {
          return { ok: false, reason: `record ${i}: label ${key} must use its integer key in CBOR` };
        }
        label = key;
      } else {
        return { ok: false, reason: `record ${i}: map keys are integers or text` };
      }
      const problem = checkField(label, value);
      if (problem) return { ok: false, reason: `record ${i}: ${problem}` };
      record[label] = value instanceof Uint8Array ? new Uint8Array(value) : value;
    }
    pack.push(record);
  }
  return { ok: true, value: pack };
}

function checkField(label: string, value: unknown): string | undefined {
  if (NUMBER_LABELS.has(label)) {
    return typeof value === 'number' && Number.isFinite(value) ? undefined : `${label} must be a number`;
  }
  if (TEXT_LABELS.has(label)) return typeof value === 'string' ? undefined : `${label} must be text`;
  if (label === 'vb') return typeof value === 'boolean' ? undefined : 'vb must be a boolean';
  if (label === 'vd') return value instanceof Uint8Array ? undefined : 'vd must be a byte string';
  if (label === 'bver') {
    return Number.isSafeInteger(value) && (value as number) >= 0
      ? undefined
      : 'bver must be an unsigned integer';
  }
  return undefined;
}

export interface ResolveOptions {
  /** "Now" for relative times, seconds since the epoch (default: the wall clock). */
  readonly nowS?: number;
  /** Must-understand extension labels (ending in `_`) this receiver implements. */
  readonly understood?: readonly string[];
}

/** Resolves a pack (§4.6). Fails on the first record that breaks a §4 rule. */
export function resolveSenml(pack: SenmlPack, options: ResolveOptions = {}): SenmlResult<ResolvedRecord[]> {
  const nowS = options.nowS ?? Date.now() / 1000;
  const understood = new Set(options.understood ?? []);
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  let bs = 0;
  let version: number | undefined;
  const out: ResolvedRecord[] = [];
  for (const [i, r] of pack.entries()) {
    const fail = (reason: string): SenmlResult<ResolvedRecord[]> => ({
      ok: false,
      reason: `record ${i}: ${reason}`,
    });
    const ext: Record<string, unknown> = {};
    for (const [label, value] of Object.entries(r)) {
      if (value === undefined || label in SENML_CBOR_LABELS) continue;
      if (label.endsWith('_') && !understood.has(label)) return fail(`must-understand field ${label}`);
      ext[label] = value;
    }
    if (r.bver !== undefined) {
      if (version !== undefined && version !== r.bver) return fail('records of one pack differ in bver');
      version = r.bver;
    }
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bu !== undefined) bu = r.bu;
    if (r.bv !== undefined) bv = r.bv;
    if (r.bs !== undefined) bs = r.bs;
    const name = bn + (r.n ?? '');
    if (!NAME_PATTERN.test(name)) return fail(`invalid name ${JSON.stringify(name)}`);
    const values = [r.v, r.vs, r.vb, r.vd].filter((x) => x !== undefined).length;
    if (values > 1) return fail('more than one value field');
    const hasBaseValue = r.bv !== undefined || bv !== 0;
    if (values === 0 && r.s === undefined && !hasBaseValue) return fail('no value and no sum');
    let t = bt + (r.t ?? 0);
    if (t < SENML_RELATIVE_TIME_LIMIT_S) t += nowS;
    const resolved: Record<string, unknown> = { n: name };
    const u = r.u ?? bu;
    if (u !== undefined) resolved.u = u;
    if (r.v !== undefined || (values === 0 && r.s === undefined)) resolved.v = bv + (r.v ?? 0);
    if (r.vs !== undefined) resolved.vs = r.vs;
    if (r.vb !== undefined) resolved.vb = r.vb;
    if (r.vd !== undefined) resolved.vd = r.vd;
    if (r.s !== undefined) resolved.s = bs + r.s;
    resolved.t = t;
    if (r.ut !== undefined) resolved.ut = r.ut;
    if (Object.keys(ext).length > 0) resolved.ext = ext;
    out.push(resolved as unknown as ResolvedRecord);
  }
  if (version !== undefined && version > DEFAULT_VERSION) {
    return { ok: false, reason: `bver ${version} is newer than this receiver (${DEFAULT_VERSION})` };
  }
  return { ok: true, value: out };
}

/** Parses SenML JSON into records (`vd` decoded to bytes). Untrusted input: returns a result. */
export function fromSenmlJson(text: string): SenmlResult<SenmlRecord[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!Array.isArray(parsed)) return { ok: false, reason: 'a SenML pack is an array' };
  const pack: SenmlRecord[] = [];
  for (const [i, entry] of parsed.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return { ok: false, reason: `record ${i} is not an object` };
    }
    const record: SenmlRecord = {};
    for (const [label, raw] of Object.entries(entry as Record<string, unknown>)) {
      let value = raw;
      if (label === 'vd') {
        if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]*$/.test(raw)) {
          return { ok: false, reason: `record ${i}: vd must be base64url text` };
        }
        value = new Uint8Array(Buffer.from(raw, 'base64url'));
      }
      const problem = checkField(label, value);
      if (problem) return { ok: false, reason: `record ${i}: ${problem}` };
      record[label] = value;
    }
    pack.push(record);
  }
  return { ok: true, value: pack };
}
