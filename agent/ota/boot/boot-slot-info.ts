/**
 * What the running system knows about its own boot: which slot the bootloader chose (RAUC's
 * `rauc.slot=A` on the kernel command line, or any parameter a board names) and the kernel's boot id,
 * which changes at every boot — so the installer can tell "the agent restarted" from "the device
 * rebooted". Both files come from configuration so that the device emulator can supply its own.
 */
import { readFile } from 'node:fs/promises';
import { isSlotName, type SlotName } from './types.js';

export interface BootSlotInfo {
  /** The slot named by `param` on the kernel command line, or undefined. */
  bootedSlot(param: string): Promise<SlotName | undefined>;
  /** The kernel's boot id (a UUID), or '' when unknown. */
  bootId(): Promise<string>;
}

export function fileBootSlotInfo(files: { cmdline: string; bootId: string }): BootSlotInfo {
  return {
    async bootedSlot(param) {
      const cmdline = await readFile(files.cmdline, 'utf8').catch(() => '');
      return slotFromCmdline(cmdline, param);
    },
    async bootId() {
      return (await readFile(files.bootId, 'utf8').catch(() => '')).trim();
    },
  };
}

/** `rauc.slot=B` → 'B' for param `rauc.slot`; the last occurrence wins, as the kernel's does. */
export function slotFromCmdline(cmdline: string, param: string): SlotName | undefined {
  let slot: SlotName | undefined;
  for (const word of cmdline.trim().split(/\s+/)) {
    if (word === '--') break; // the rest belongs to init
    if (!word.startsWith(`${param}=`)) continue;
    const value = word.slice(param.length + 1);
    slot = isSlotName(value) ? value : undefined;
  }
  return slot;
}
