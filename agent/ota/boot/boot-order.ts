/**
 * The A/B rules over `BOOT_ORDER` and `BOOT_<slot>_LEFT`, RAUC's U-Boot scheme
 * (rauc `src/bootloaders/uboot.c`; boards/uboot-ab.script is the bootloader's half, and the device
 * emulator runs that script itself). Pure functions on a variable map, shared by the U-Boot backend
 * and the file backend.
 *
 * - A slot is good when it is listed in `BOOT_ORDER` and has attempts left; the primary is the first
 *   such slot in the order.
 * - set-primary puts the slot first and gives it a fresh budget; set-state bad removes it from the
 *   order and zeroes its budget; set-state good restores the budget (and lists the slot last if it was
 *   missing, so a confirmed slot is always a fallback).
 * - The bootloader (boards/uboot-ab.script) boots the first slot in the order with attempts left and
 *   spends one attempt; with none left it resets every budget and resets the board.
 * Counters are written in hex without a prefix (`a` for ten), as U-Boot's `setexpr` and RAUC write
 * them, and read as hex; the script compares them as `test 0x${BOOT_A_LEFT} -gt 0`, because U-Boot's
 * `test` reads a bare `a` as decimal, i.e. 0.
 */
import type { SlotName, SlotState } from './types.js';

export type BootVars = ReadonlyMap<string, string>;
/** Variables to set (a string) or delete (null). */
export type BootVarChanges = Readonly<Record<string, string | null>>;

export const BOOT_ORDER = 'BOOT_ORDER';
export const DEFAULT_ATTEMPTS = 3;

function leftVar(slot: SlotName): string {
  return `BOOT_${slot}_LEFT`;
}

/** The slots named in `BOOT_ORDER`, in order, once each; unknown names are skipped. */
export function bootOrder(vars: BootVars): SlotName[] {
  const order: SlotName[] = [];
  for (const name of (vars.get(BOOT_ORDER) ?? '').split(' ')) {
    if ((name === 'A' || name === 'B') && !order.includes(name)) order.push(name);
  }
  return order;
}

/** Attempts left for `slot`; a missing or unparsable counter counts as 0. */
export function attemptsLeft(vars: BootVars, slot: SlotName): number {
  const raw = vars.get(leftVar(slot));
  if (raw === undefined || !/^(0x)?[0-9a-fA-F]+$/.test(raw.trim())) return 0;
  return Number.parseInt(raw.trim().replace(/^0x/, ''), 16);
}

export function slotState(vars: BootVars, slot: SlotName): SlotState {
  return bootOrder(vars).includes(slot) && attemptsLeft(vars, slot) > 0 ? 'good' : 'bad';
}

export function primarySlot(vars: BootVars): SlotName | undefined {
  return bootOrder(vars).find((s) => attemptsLeft(vars, s) > 0);
}

export function setPrimaryChanges(vars: BootVars, slot: SlotName, attempts: number): BootVarChanges {
  const order = [slot, ...bootOrder(vars).filter((s) => s !== slot)];
  return { [BOOT_ORDER]: order.join(' '), [leftVar(slot)]: hex(attempts) };
}

export function setStateChanges(
  vars: BootVars,
  slot: SlotName,
  state: SlotState,
  attempts: number,
): BootVarChanges {
  const order = bootOrder(vars);
  if (state === 'bad') {
    // An empty BOOT_ORDER is deleted: the boot script would reset a missing one to "A B" anyway,
    // and fw_setenv cannot store an empty value.
    const rest = order.filter((s) => s !== slot);
    return { [BOOT_ORDER]: rest.length > 0 ? rest.join(' ') : null, [leftVar(slot)]: '0' };
  }
  const listed = order.includes(slot) ? order : [...order, slot];
  return { [BOOT_ORDER]: listed.join(' '), [leftVar(slot)]: hex(attempts) };
}

/** The variables after applying `changes` (for read-back comparison and in-memory emulation). */
export function applyChanges(vars: BootVars, changes: BootVarChanges): Map<string, string> {
  const next = new Map(vars);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  return next;
}

/** Only the entries of `changes` that differ from `vars` (avoids needless environment writes). */
export function effectiveChanges(vars: BootVars, changes: BootVarChanges): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(changes)) {
    if (v === null ? vars.has(k) : vars.get(k) !== v) out[k] = v;
  }
  return out;
}

/** Names of the variables in `changes` that `vars` does not hold as written. */
export function mismatches(vars: BootVars, changes: BootVarChanges): string[] {
  return Object.entries(changes)
    .filter(([k, v]) => (v === null ? vars.has(k) : vars.get(k) !== v))
    .map(([k]) => k);
}

function hex(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`attempts must be a non-negative integer, got ${n}`);
  return n.toString(16);
}
