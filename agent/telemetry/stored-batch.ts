/**
 * The outbox's on-disk format. A *batch* is what one MQTT message carries; it is written as one or more
 * *parts*, one per group commit that added to it, so a batch can collect readings for longer than one
 * commit interval without rewriting anything. Keys sort in the order things happened:
 *
 *     <bootId>.<seq: 10 hex>.<part: 4 hex>      bootId = <boot counter: 8 hex>-<random: 8 hex>
 *
 * The boot counter (persisted, boot-id.ts) orders boots; the random half keeps `(bootId, seq)` unique
 * even if the state directory is wiped and the counter starts again, which is what the backend dedupes
 * on. A part is plain CBOR (no cbor-x records): a small header, a name and unit dictionary, and the
 * items as a flat array of fixed stride, with times as deltas from the part's base — compact and fast
 * to encode at 100 k readings/s. `decodePart` validates the whole structure, because a part that does
 * not decode is quarantined (outbox.ts), never trusted; a unit written by an earlier agent that this one
 * no longer produces is converted to its primary unit as the part is read (legacy-units.ts).
 */
import { Decoder, Encoder } from 'cbor-x';
import type { PointValue } from '../core/points.js';
import { isSenmlUnit, type SenmlUnit } from '../core/senml-units.js';
import { convertValue, legacyUnit, type UnitConversion } from './legacy-units.js';
import { type Aggregate, PRIORITIES, type Priority, type Reading, type TelemetryEvent } from './reading.js';

export type BatchKind = 'raw' | 'agg' | 'event';

export interface PartHeader {
  readonly kind: BatchKind;
  readonly priority: Priority;
  /** The wall clock was trusted when these items were taken (wall-clock.ts). */
  readonly trusted: boolean;
}

export type PartContent =
  | { readonly kind: 'raw'; readonly readings: readonly Reading[] }
  | { readonly kind: 'agg'; readonly aggregates: readonly Aggregate[]; readonly readings: readonly Reading[] }
  | { readonly kind: 'event'; readonly events: readonly TelemetryEvent[] };

export type DecodedPart = PartHeader & { readonly content: PartContent; readonly items: number };

const FORMAT_VERSION = 1;
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

const PART_KEY = /^([0-9a-f]{8}-[0-9a-f]{8})\.([0-9a-f]{10})\.([0-9a-f]{4})$/;
export const MAX_PARTS = 0xffff;
export const MAX_SEQ = 0xff_ffff_ffff;

export function batchId(bootId: string, seq: number): string {
  return `${bootId}.${seq.toString(16).padStart(10, '0')}`;
}

export function partKey(id: string, part: number): string {
  return `${id}.${part.toString(16).padStart(4, '0')}`;
}

/** The range of keys holding a batch's parts (for an iterator's gte/lt). */
export function partRange(id: string): { gte: string; lt: string } {
  return { gte: `${id}.`, lt: `${id}/` }; // '/' is the character after '.'
}

export function parsePartKey(
  key: string,
): { bootId: string; seq: number; part: number; id: string } | undefined {
  const m = PART_KEY.exec(key);
  if (!m) return undefined;
  const bootId = m[1] as string;
  const seq = Number.parseInt(m[2] as string, 16);
  return { bootId, seq, part: Number.parseInt(m[3] as string, 16), id: batchId(bootId, seq) };
}

/** Encodes the items of one part. `items` must all match `header.kind`. */
export function encodePart(header: PartHeader, content: PartContent): Uint8Array {
  if (content.kind !== header.kind)
    throw new TypeError(`content kind ${content.kind} ≠ header ${header.kind}`);
  const names = new Names();
  const base = firstTimes(content);
  const w0 = base.wallMs;
  const m0 = base.monoMs;
  const doc: Record<string, unknown> = {
    v: FORMAT_VERSION,
    k: header.kind,
    p: header.priority,
    tr: header.trusted,
    w: w0,
    m: m0,
  };
  if (content.kind === 'raw') {
    doc.r = flatReadings(content.readings, names, w0, m0);
  } else if (content.kind === 'agg') {
    const r: (number | PointValue)[] = [];
    for (const a of content.aggregates) {
      r.push(names.index(a.name, a.unit), a.min, a.max, a.mean, a.count, a.wallMs - w0, mono(a.monoMs, m0));
    }
    doc.r = r;
    doc.x = flatReadings(content.readings, names, w0, m0);
  } else {
    doc.r = content.events.map((e) => ({
      type: e.type,
      data: e.data,
      dw: e.wallMs - w0,
      dm: mono(e.monoMs, m0),
    }));
  }
  doc.n = names.names;
  doc.u = names.units;
  return encoder.encode(doc);
}

/** Monotonic times are kept to the millisecond: enough to correct a wall time (wall-clock.ts). */
function mono(monoMs: number, m0: number): number {
  return Math.round(monoMs - m0);
}

function flatReadings(readings: readonly Reading[], names: Names, w0: number, m0: number): PointValue[] {
  const r: PointValue[] = [];
  for (const x of readings) r.push(names.index(x.name, x.unit), x.value, x.wallMs - w0, mono(x.monoMs, m0));
  return r;
}

function firstTimes(content: PartContent): { wallMs: number; monoMs: number } {
  const first =
    content.kind === 'raw'
      ? content.readings[0]
      : content.kind === 'agg'
        ? (content.aggregates[0] ?? content.readings[0])
        : content.events[0];
  return { wallMs: first?.wallMs ?? 0, monoMs: Math.round(first?.monoMs ?? 0) };
}

class Names {
  readonly names: string[] = [];
  readonly units: (string | null)[] = [];
  readonly #index = new Map<string, number>();

  index(name: string, unit: SenmlUnit | undefined): number {
    let i = this.#index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.#index.set(name, i);
      this.names.push(name);
      this.units.push(unit ?? null);
    }
    return i;
  }
}

class Invalid extends Error {}

/** Decodes and validates a part; any deviation from the format is a failure, never an exception. */
export function decodePart(
  bytes: Uint8Array,
): { ok: true; part: DecodedPart } | { ok: false; reason: string } {
  let doc: unknown;
  try {
    doc = decoder.decode(bytes);
  } catch (e) {
    return { ok: false, reason: `not CBOR: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    return { ok: true, part: validate(doc) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.message };
    throw e;
  }
}

function validate(doc: unknown): DecodedPart {
  const d = record(doc, 'part');
  if (d.v !== FORMAT_VERSION) throw new Invalid(`unknown format version ${String(d.v)}`);
  const kind = d.k;
  if (kind !== 'raw' && kind !== 'agg' && kind !== 'event') throw new Invalid(`unknown kind ${String(kind)}`);
  const priority = d.p as Priority;
  if (!PRIORITIES.includes(priority)) throw new Invalid(`unknown priority ${String(d.p)}`);
  if (typeof d.tr !== 'boolean') throw new Invalid('tr must be a boolean');
  const w0 = finite(d.w, 'w');
  const m0 = finite(d.m, 'm');
  const names = array(d.n, 'n').map((n) => {
    if (typeof n !== 'string' || n.length === 0) throw new Invalid('names must be text');
    return n;
  });
  // A unit an earlier agent wrote and this one no longer produces is converted, not refused.
  const units = array(d.u, 'u').map((u): { unit: SenmlUnit | undefined; legacy?: UnitConversion } => {
    if (u === null) return { unit: undefined };
    if (typeof u !== 'string') throw new Invalid(`unknown unit ${String(u)}`);
    if (isSenmlUnit(u)) return { unit: u };
    const legacy = legacyUnit(u);
    if (!legacy) throw new Invalid(`unknown unit ${u}`);
    return { unit: legacy.unit, legacy };
  });
  if (units.length !== names.length) throw new Invalid('names and units differ in length');
  const header = { kind, priority, trusted: d.tr } as const;
  const nameAt = (i: unknown): [string, SenmlUnit | undefined, (v: number) => number] => {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= names.length) {
      throw new Invalid(`bad name index ${String(i)}`);
    }
    const { unit, legacy } = units[i]!;
    return [names[i] as string, unit, legacy ? (v) => convertValue(v, legacy) : (v) => v];
  };
  const readingsOf = (flat: unknown[]): Reading[] => {
    if (flat.length % 4 !== 0) throw new Invalid('reading array length is not a multiple of 4');
    const out: Reading[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      const [name, unit, convert] = nameAt(flat[i]);
      const value = flat[i + 1];
      if (
        !(
          typeof value === 'boolean' ||
          typeof value === 'string' ||
          (typeof value === 'number' && Number.isFinite(value))
        )
      ) {
        throw new Invalid(`bad value for ${name}`);
      }
      out.push({
        name,
        unit,
        value: typeof value === 'number' ? convert(value) : value,
        wallMs: w0 + finite(flat[i + 2], 'dw'),
        monoMs: m0 + finite(flat[i + 3], 'dm'),
      });
    }
    return out;
  };
  if (kind === 'raw') {
    const readings = readingsOf(array(d.r, 'r'));
    return { ...header, content: { kind, readings }, items: readings.length };
  }
  if (kind === 'agg') {
    const flat = array(d.r, 'r');
    if (flat.length % 7 !== 0) throw new Invalid('aggregate array length is not a multiple of 7');
    const aggregates: Aggregate[] = [];
    for (let i = 0; i < flat.length; i += 7) {
      const [name, unit, convert] = nameAt(flat[i]);
      const count = finite(flat[i + 4], 'count');
      if (!Number.isInteger(count) || count < 1) throw new Invalid('count must be a positive integer');
      aggregates.push({
        name,
        unit,
        // every conversion has a positive scale, so min and max stay min and max
        min: convert(finite(flat[i + 1], 'min')),
        max: convert(finite(flat[i + 2], 'max')),
        mean: convert(finite(flat[i + 3], 'mean')),
        count,
        wallMs: w0 + finite(flat[i + 5], 'dw'),
        monoMs: m0 + finite(flat[i + 6], 'dm'),
      });
    }
    const readings = readingsOf(array(d.x, 'x'));
    return { ...header, content: { kind, aggregates, readings }, items: aggregates.length + readings.length };
  }
  const events = array(d.r, 'r').map((raw) => {
    const e = record(raw, 'event');
    if (typeof e.type !== 'string' || e.type.length === 0) throw new Invalid('event type must be text');
    const data = record(e.data, 'event data');
    for (const v of Object.values(data)) {
      if (!(v === null || ['string', 'number', 'boolean'].includes(typeof v)))
        throw new Invalid('bad event data');
    }
    return {
      type: e.type,
      data: data as TelemetryEvent['data'],
      wallMs: w0 + finite(e.dw, 'dw'),
      monoMs: m0 + finite(e.dm, 'dm'),
    };
  });
  return { ...header, content: { kind, events }, items: events.length };
}

function record(x: unknown, what: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Uint8Array) {
    throw new Invalid(`${what} must be a map`);
  }
  return x as Record<string, unknown>;
}

function array(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) throw new Invalid(`${what} must be an array`);
  return x;
}

function finite(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Invalid(`${what} must be a finite number`);
  return x;
}

/** The time of a part's first item. */
export function firstTime(p: DecodedPart): { wallMs: number; monoMs: number } {
  return firstTimes(p.content);
}

/** The content of a batch: its parts' items, in order. */
export function mergeParts(parts: DecodedPart[]): PartContent {
  const kind = (parts[0] as DecodedPart).kind;
  if (kind === 'raw') {
    return { kind, readings: parts.flatMap((p) => (p.content.kind === 'raw' ? p.content.readings : [])) };
  }
  if (kind === 'agg') {
    return {
      kind,
      aggregates: parts.flatMap((p) => (p.content.kind === 'agg' ? p.content.aggregates : [])),
      readings: parts.flatMap((p) => (p.content.kind === 'agg' ? p.content.readings : [])),
    };
  }
  return { kind, events: parts.flatMap((p) => (p.content.kind === 'event' ? p.content.events : [])) };
}
