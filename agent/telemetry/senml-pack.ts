/**
 * A stored batch as it goes on the wire. Telemetry (raw readings and aggregates) becomes one SenML pack
 * in CBOR (RFC 8428 §6): the first record carries `bn` = `urn:dev:<deviceId>:` and `bt`, each record
 * `t` relative to the base time. To keep packs small — without rounding anything — two base-field
 * moves (§4.1, as the RFC's own §5.1.3 example uses them): a point with several readings in the batch is
 * written as a run that re-bases `bn` to the point's full name (and `bu` to its unit) and then omits
 * `n` and `u`; and readings of one instant (the channels a device reports together) share a `bt`
 * instead of each carrying a `t`. Every record still resolves to `urn:dev:<deviceId>:<point>` at its
 * exact time. Points with a single reading keep `n`.
 * Aggregates travel as `<point>/min`, `/max`, `/mean` and `/count` (unit `count`), timed at their
 * window's first reading.
 *
 * Time without an RTC: an item stored before the clock was trusted is corrected to `monotonic + offset`
 * when its boot later got a trusted clock. If it never did, the time cannot be corrected and every
 * record of the pack carries the extension field `tq_: "unsynced"` (RFC 8428 §4.4). Its name ends in
 * `_`, so it is *must-understand*: a receiver that does not know it must reject the pack rather than
 * read device-clock times as real ones. We chose that over a silently ignorable field because a wrong
 * timestamp that looks right is the failure this exists to prevent; the damage is contained because
 * untrusted readings are always in batches of their own (outbox.ts), never mixed with good ones.
 *
 * Events go to `edge/<id>/events` as plain CBOR: an array of maps `{type, t, ...data}` (t in seconds),
 * with `tq: "unsynced"` when their time could not be corrected.
 */

import { CborWriter } from '../core/cbor-writer.js';
import type { PointValue } from '../core/points.js';
import type { StoredBatch } from './outbox.js';
import type { Aggregate, Reading } from './reading.js';
import { encodeSenmlCbor, type SenmlRecord } from './senml.js';

export const SENML_CBOR_CONTENT_TYPE = 'application/senml+cbor';
export const EVENTS_CONTENT_TYPE = 'application/cbor';
/**
 * The SenML extension labels (RFC 8428 §4.4, text keys in CBOR too) the agent writes beside the
 * standard ones of senml.ts `SENML_CBOR_LABELS`: only the time quality, must-understand (`_`).
 */
export const SENML_EXTENSION_LABELS = { timeQuality: 'tq_' } as const;
/** The must-understand extension label for an uncorrectable (device clock) time. */
export const TIME_QUALITY_LABEL = SENML_EXTENSION_LABELS.timeQuality;
export const TIME_UNSYNCED = 'unsynced';

export interface WirePayload {
  readonly payload: Uint8Array;
  readonly contentType: string;
  /** Readings (an aggregate counts its `count`), or events. */
  readonly items: number;
  /** Times are the device clock's, uncorrected. */
  readonly unsynced: boolean;
}

export interface EncodeBatchOptions {
  readonly deviceId: string;
  /** wall − monotonic of the batch's boot, when that boot had a trusted clock (wall-clock.ts). */
  readonly offsetMs: number | undefined;
}

interface Item {
  readonly name: string;
  readonly unit: string | undefined;
  readonly value: PointValue;
  readonly timeMs: number;
}

/** Encodes a stored batch for the wire. */
export function encodeBatch(batch: StoredBatch, options: EncodeBatchOptions): WirePayload {
  const { trusted } = batch.info;
  const correctable = trusted || options.offsetMs !== undefined;
  const timeOf = (x: { wallMs: number; monoMs: number }) =>
    trusted || options.offsetMs === undefined ? x.wallMs : Math.round(x.monoMs + options.offsetMs);
  const content = batch.content;
  if (content.kind === 'event') {
    const w = new CborWriter();
    w.arrayHeader(content.events.length);
    for (const e of content.events) {
      const entries = Object.entries(e.data).filter(([k]) => k !== 'type' && k !== 't' && k !== 'tq');
      w.mapHeader(2 + entries.length + (correctable ? 0 : 1));
      w.text('type');
      w.text(e.type);
      w.text('t');
      w.number(timeOf(e) / 1000);
      for (const [k, v] of entries) {
        w.text(k);
        if (v === null) w.bool(false);
        else if (typeof v === 'number') w.number(v);
        else if (typeof v === 'boolean') w.bool(v);
        else w.text(v);
      }
      if (!correctable) {
        w.text('tq');
        w.text(TIME_UNSYNCED);
      }
    }
    return {
      payload: w.bytes(),
      contentType: EVENTS_CONTENT_TYPE,
      items: content.events.length,
      unsynced: !correctable,
    };
  }
  const items: Item[] = [];
  let readings = 0;
  const addReading = (r: Reading) => {
    items.push({ name: r.name, unit: r.unit, value: r.value, timeMs: timeOf(r) });
    readings++;
  };
  if (content.kind === 'raw') {
    for (const r of content.readings) addReading(r);
  } else {
    for (const a of content.aggregates) pushAggregate(items, a, timeOf(a));
    readings += content.aggregates.reduce((n, a) => n + a.count, 0);
    for (const r of content.readings) addReading(r);
  }
  const pack = senmlRecords(items, options.deviceId, correctable);
  return {
    payload: encodeSenmlCbor(pack),
    contentType: SENML_CBOR_CONTENT_TYPE,
    items: readings,
    unsynced: !correctable,
  };
}

function pushAggregate(items: Item[], a: Aggregate, timeMs: number): void {
  items.push(
    { name: `${a.name}/min`, unit: a.unit, value: a.min, timeMs },
    { name: `${a.name}/max`, unit: a.unit, value: a.max, timeMs },
    { name: `${a.name}/mean`, unit: a.unit, value: a.mean, timeMs },
    { name: `${a.name}/count`, unit: 'count', value: a.count, timeMs },
  );
}

/**
 * The records of one pack (see the module header for the layout). Order: single readings (with `n`
 * and `u`) first, then runs without a unit, then runs with one — so a run's `bu` is never inherited
 * by a record that has no unit of its own.
 */
function senmlRecords(items: readonly Item[], deviceId: string, timesTrusted = true): SenmlRecord[] {
  if (items.length === 0) return [];
  const prefix = `urn:dev:${deviceId}:`;
  let firstMs = Number.POSITIVE_INFINITY;
  for (const i of items) if (i.timeMs < firstMs) firstMs = i.timeMs;
  const byName = new Map<string, Item[]>();
  for (const item of items) {
    const list = byName.get(item.name);
    if (list) list.push(item);
    else byName.set(item.name, [item]);
  }
  const singles: Item[] = [];
  const runsPlain: Item[][] = [];
  const runsUnit: Item[][] = [];
  for (const [name, list] of byName) {
    // A run costs one extra `bn` (prefix + name); it pays when the names it saves cost more.
    if (list.length * (name.length + 2) > prefix.length + name.length + 3) {
      (list[0]?.unit ? runsUnit : runsPlain).push(list);
    } else {
      singles.push(...list);
    }
  }
  // Singles in time order, so that the channels a device reported at one instant sit together.
  singles.sort((a, b) => a.timeMs - b.timeMs);
  const records: SenmlRecord[] = [];
  let baseMs = Math.floor(firstMs / 1000) * 1000; // whole seconds: bt is a 5-byte integer
  const value = (r: SenmlRecord, v: PointValue) => {
    if (typeof v === 'number') r.v = v;
    else if (typeof v === 'boolean') r.vb = v;
    else r.vs = v;
  };
  /**
   * Base time: the first record always carries `bt` (without it a receiver reads the pack's times as
   * relative to "now", §4.5.3). Where several records share an instant, `bt` is moved there once
   * (§4.1) and their `t` is omitted — one 9-byte time instead of one per record.
   */
  const time = (r: SenmlRecord, timeMs: number, sharedWithNext: boolean) => {
    if (records.length === 0 || (sharedWithNext && timeMs !== baseMs)) {
      if (sharedWithNext) baseMs = timeMs;
      r.bt = baseMs / 1000;
    }
    const t = (timeMs - baseMs) / 1000;
    if (t !== 0) r.t = t;
    if (!timesTrusted) r[TIME_QUALITY_LABEL] = TIME_UNSYNCED;
  };
  singles.forEach((item, i) => {
    const r: SenmlRecord = records.length === 0 ? { bn: prefix } : {};
    time(r, item.timeMs, singles[i + 1]?.timeMs === item.timeMs);
    r.n = item.name;
    if (item.unit) r.u = item.unit;
    value(r, item.value);
    records.push(r);
  });
  for (const run of [...runsPlain, ...runsUnit]) {
    run.forEach((item, i) => {
      const r: SenmlRecord = {};
      if (i === 0) {
        r.bn = prefix + item.name;
        if (item.unit) r.bu = item.unit;
      }
      time(r, item.timeMs, false);
      if (i > 0 && item.unit !== run[0]?.unit && item.unit) r.u = item.unit;
      value(r, item.value);
      records.push(r);
    });
  }
  return records;
}
