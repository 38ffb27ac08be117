/**
 * The boot backend contract: how the installer asks a bootloader which slot to boot, with RAUC's
 * bootchooser verbs (get-primary, set-primary, get-state, set-state, get-current). One implementation
 * per bootloader (ab-env-backend.ts over the U-Boot env or a file, grub.ts, tryboot.ts, jetson.ts over
 * nvbootctrl, efi.ts over efibootmgr), registered in registry.ts.
 *
 * The scheme is A/B with a trial: `setPrimary(B)` makes the bootloader try B next with a fresh budget
 * of boot attempts; each boot of B spends one; if the system marks B good (`setState(B, 'good')`)
 * before the budget runs out B stays, otherwise the bootloader falls back to A by itself. A slot being
 * written is first marked bad so that nothing ever boots a half-written slot.
 *
 * Every write is read back: a write that does not read back as written rejects with
 * `InstallError('EBOOT_READBACK')`; an unreadable or corrupt environment rejects with
 * `InstallError('EBOOT_ENV')`. Verbs are not concurrency-safe against each other: the installer runs
 * one at a time.
 */

export const SLOT_NAMES = ['A', 'B'] as const;
export type SlotName = (typeof SLOT_NAMES)[number];
export type SlotState = 'good' | 'bad';

export function otherSlot(slot: SlotName): SlotName {
  return slot === 'A' ? 'B' : 'A';
}

export function isSlotName(v: unknown): v is SlotName {
  return v === 'A' || v === 'B';
}

export interface BootBackend {
  /** `uboot`, `grub`, `tryboot`, `jetson`, `efi`, `file`. */
  readonly kind: string;
  /** get-primary: the slot the bootloader will try first at the next boot; undefined if none is bootable. */
  getPrimary(): Promise<SlotName | undefined>;
  /** set-primary: boot `slot` next with a fresh attempt budget (a trial until it is marked good). */
  setPrimary(slot: SlotName): Promise<void>;
  /** get-state: whether the bootloader considers `slot` bootable. */
  getState(slot: SlotName): Promise<SlotState>;
  /**
   * set-state: `good` confirms a slot (resets its attempt budget; on tryboot makes a trial permanent);
   * `bad` takes it out of the boot order so it is never booted until set primary again.
   */
  setState(slot: SlotName, state: SlotState): Promise<void>;
  /** get-current: the slot the running system was booted from; undefined when it cannot be told. */
  getCurrent(): Promise<SlotName | undefined>;
  /** Extra arguments the reboot command needs to start the trial (tryboot: `0 tryboot`), else empty. */
  rebootArgs(): Promise<readonly string[]>;
  /** The backend's raw variables, for status displays and tests. */
  inspect(): Promise<Readonly<Record<string, string>>>;
}
