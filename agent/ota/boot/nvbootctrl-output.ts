/**
 * Parses what NVIDIA's `nvbootctrl -t rootfs` prints on L4T r35/r36 (JetPack 5–6), as captured on
 * devices in NVIDIA's developer forum ("Rootfs A/B redundancy fail-over mechanism in Jetpack5.1",
 * "Rootfs slot falls to unbootable status" on r36.3):
 *
 *     Current rootfs slot: A
 *     Active rootfs slot: A
 *     num_slots: 2
 *     slot: 0,             retry_count: 3,             status: normal
 *     slot: 1,             retry_count: 0,             status: unbootable
 *
 * and `get-current-slot`, which prints the slot number alone. Slot 0 is A (partition APP), slot 1 is B
 * (APP_b). Untrusted text in, a result out: anything else is `{ ok: false, reason }`.
 */
import type { SlotName } from './types.js';

export type RootfsSlotStatus = 'normal' | 'unbootable';

export interface RootfsSlotInfo {
  /** Boots the firmware will still try before it marks the slot unbootable (RootfsRetryCountMax at most). */
  readonly retryCount: number;
  readonly status: RootfsSlotStatus;
}

export interface RootfsSlotsInfo {
  /** The slot the running system booted from. */
  readonly current: SlotName;
  /** The slot the firmware boots next. */
  readonly active: SlotName;
  readonly slots: Readonly<Record<SlotName, RootfsSlotInfo>>;
}

export type NvParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

export const NVBOOTCTRL_SLOT_NUMBERS: Readonly<Record<SlotName, 0 | 1>> = { A: 0, B: 1 };

export function slotOfNumber(n: string): SlotName | undefined {
  return n === '0' ? 'A' : n === '1' ? 'B' : undefined;
}

/** `get-current-slot`: `0` or `1` on a line of its own. */
export function parseCurrentSlot(text: string): NvParseResult<SlotName> {
  const slot = slotOfNumber(text.trim());
  return slot ? { ok: true, value: slot } : { ok: false, reason: 'expected the slot number 0 or 1' };
}

/** `dump-slots-info` of `-t rootfs`. */
export function parseRootfsSlotsInfo(text: string): NvParseResult<RootfsSlotsInfo> {
  let current: SlotName | undefined;
  let active: SlotName | undefined;
  const slots: Partial<Record<SlotName, RootfsSlotInfo>> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const named = /^(Current|Active) rootfs slot:\s*([AB])$/.exec(line);
    if (named) {
      if (named[1] === 'Current') current = named[2] as SlotName;
      else active = named[2] as SlotName;
      continue;
    }
    if (!line.startsWith('slot:')) continue;
    const m = /^slot:\s*(\d+),\s*retry_count:\s*(\d+),\s*status:\s*(\w+)$/.exec(line);
    const slot = m ? slotOfNumber(m[1]!) : undefined;
    if (!m || !slot || (m[3] !== 'normal' && m[3] !== 'unbootable')) {
      return { ok: false, reason: `unexpected slot line ${JSON.stringify(line)}` };
    }
    slots[slot] = { retryCount: Number(m[2]), status: m[3] };
  }
  if (!current || !active)
    return { ok: false, reason: 'no "Current rootfs slot" or "Active rootfs slot" line' };
  if (!slots.A || !slots.B) return { ok: false, reason: 'expected a line for each of slots 0 and 1' };
  return { ok: true, value: { current, active, slots: { A: slots.A, B: slots.B } } };
}
