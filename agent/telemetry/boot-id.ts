/**
 * The boot id: one per agent process start, `<counter: 8 hex>-<random: 8 hex>`. The counter is kept in
 * the telemetry database and written with fsync before anything is stamped with the new id, so ids
 * increase across restarts (outbox keys sort by boot) even after a power cut. Monotonic time restarts
 * with the process, so "same boot" is what makes `wall = monotonic + offset` corrections valid.
 */
import { randomBytes } from 'node:crypto';
import type { MetaLevel } from './store.js';

const COUNTER_KEY = 'bootCounter';

export async function nextBootId(
  meta: MetaLevel,
  random: (n: number) => Uint8Array = randomBytes,
): Promise<string> {
  const previous = await meta.get(COUNTER_KEY);
  const counter = (typeof previous === 'number' && Number.isSafeInteger(previous) ? previous : 0) + 1;
  await meta.put(COUNTER_KEY, counter, { sync: true } as object);
  const suffix = Buffer.from(random(4)).toString('hex');
  return `${(counter % 0x1_0000_0000).toString(16).padStart(8, '0')}-${suffix}`;
}
