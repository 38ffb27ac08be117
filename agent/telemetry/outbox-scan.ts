/**
 * What the outbox does at start and when a record turns out bad: rebuild the index by decoding every
 * stored part (a part that does not decode, or whose key is not ours, is set aside), and move such
 * records to the quarantine sublevel — kept for inspection, bounded, never trusted.
 */
import type { IndexEntry } from './outbox-types.js';
import type { TelemetryStore } from './store.js';
import {
  type DecodedPart,
  decodePart,
  firstTime,
  type PartHeader,
  parsePartKey,
  partRange,
} from './stored-batch.js';

/** The `meta` key under which the outbox counters are persisted. */
export const COUNTERS_KEY = 'counters';

export interface BadRecord {
  readonly key: string;
  readonly value: Uint8Array;
  readonly reason: string;
}

export function newEntry(id: string, bootId: string, seq: number, h: PartHeader): IndexEntry {
  return {
    id,
    bootId,
    seq,
    kind: h.kind,
    priority: h.priority,
    trusted: h.trusted,
    items: 0,
    bytes: 0,
    parts: 0,
    firstWallMs: 0,
    firstMonoMs: 0,
    sealed: false,
    leased: false,
    attempted: false,
    noDownsample: false,
  };
}

/** Every stored batch, oldest first (key order), all sealed; and the records that did not decode. */
export async function scanStore(
  store: TelemetryStore,
): Promise<{ entries: Map<string, IndexEntry>; bad: BadRecord[] }> {
  const entries = new Map<string, IndexEntry>();
  const bad: BadRecord[] = [];
  for await (const [key, value] of store.batches.iterator()) {
    const parsed = parsePartKey(key);
    if (!parsed) {
      bad.push({ key, value, reason: 'malformed key' });
      continue;
    }
    const decoded = decodePart(value);
    if (!decoded.ok) {
      bad.push({ key, value, reason: decoded.reason });
      continue;
    }
    const p = decoded.part;
    let entry = entries.get(parsed.id);
    if (!entry) {
      entry = newEntry(parsed.id, parsed.bootId, parsed.seq, p);
      const first = firstTime(p);
      entry.firstWallMs = first.wallMs;
      entry.firstMonoMs = first.monoMs;
      entries.set(parsed.id, entry);
    }
    entry.sealed = true;
    entry.parts = Math.max(entry.parts, parsed.part + 1);
    entry.items += p.items;
    entry.bytes += key.length + value.length;
  }
  return { entries, bad };
}

/** Decodes every stored part of batch `id`; those that do not decode come back as `bad`. */
export async function readParts(
  store: TelemetryStore,
  id: string,
): Promise<{ parts: DecodedPart[]; bad: BadRecord[] }> {
  const parts: DecodedPart[] = [];
  const bad: BadRecord[] = [];
  for await (const [key, value] of store.batches.iterator(partRange(id))) {
    const decoded = decodePart(value);
    if (decoded.ok) parts.push(decoded.part);
    else bad.push({ key, value, reason: decoded.reason });
  }
  return { parts, bad };
}

/**
 * Moves `bad` records to the quarantine (with `counters` written in the same fsynced batch), then
 * trims the quarantine to its `max` newest records.
 */
export async function quarantineRecords(
  store: TelemetryStore,
  bad: readonly BadRecord[],
  options: { nowMs: number; max: number; countersKey: string; counters: object },
): Promise<void> {
  const chained = store.db.batch();
  const stamp = options.nowMs.toString(16).padStart(12, '0');
  for (const [i, b] of bad.entries()) {
    chained.put(`${stamp}.${i.toString(16).padStart(4, '0')}.${b.key}`, b.value, {
      sublevel: store.quarantine,
    });
    chained.del(b.key, { sublevel: store.batches });
  }
  chained.put(options.countersKey, options.counters, { sublevel: store.meta });
  await chained.write({ sync: true } as object);
  const keys: string[] = [];
  for await (const key of store.quarantine.keys()) keys.push(key);
  const excess = keys.length - options.max;
  if (excess > 0)
    await store.quarantine.batch(keys.slice(0, excess).map((key) => ({ type: 'del' as const, key })));
}
