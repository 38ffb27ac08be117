/**
 * The Jetson UEFI firmware's rootfs choice (L4TLauncher, L4T r35/r36 with rootfs A/B), played by the
 * device emulator at every power-on over the state file the fake nvbootctrl
 * (test/support/fake-nvbootctrl.mjs) reads and writes — the firmware and the tool share it as they
 * share UEFI variables on a Jetson.
 *
 * As NVIDIA's developer guide and forum describe the fail-over: the active slot is booted while its
 * status is normal and it has retries left, and each boot spends one (the OS restores the count when
 * it confirms the boot); a slot with none left is marked unbootable and the other one becomes active
 * and is booted if it can be; with both unbootable the firmware boots recovery — here, the device does
 * not boot.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { SlotName } from '../../agent/ota/boot/types.js';

export interface JetsonSlotState {
  retryCount: number;
  status: 'normal' | 'unbootable';
}

/** The fake's state file: what nvbootctrl and the firmware keep in UEFI variables and a scratch register. */
export interface JetsonNvram {
  version: string;
  retryCountMax: number;
  current: 0 | 1;
  active: 0 | 1;
  slots: [JetsonSlotState, JetsonSlotState];
  /** The confirm commands fail with this message on stderr (a test's fault injection). */
  failConfirm?: string | null;
  /** set-active-boot-slot leaves an unbootable status as it is. */
  stickyUnbootable?: boolean;
}

const NAMES: readonly SlotName[] = ['A', 'B'];

/** A board as flashed with ROOTFS_AB=1: both slots normal with full counts, A active. */
export function jetsonFactoryNvram(retryCountMax = 3): JetsonNvram {
  return {
    version: '36.3.0',
    retryCountMax,
    current: 0,
    active: 0,
    slots: [
      { retryCount: retryCountMax, status: 'normal' },
      { retryCount: retryCountMax, status: 'normal' },
    ],
  };
}

export async function readJetsonNvram(file: string): Promise<JetsonNvram> {
  return JSON.parse(await readFile(file, 'utf8')) as JetsonNvram;
}

export async function writeJetsonNvram(file: string, nvram: JetsonNvram): Promise<void> {
  const tmp = `${file}.fw.tmp`;
  await writeFile(tmp, `${JSON.stringify(nvram, null, 2)}\n`);
  await rename(tmp, file);
}

/** One power-on's choice: the slot booted (one retry spent), or why nothing was. */
export async function jetsonFirmwareBoot(
  file: string,
): Promise<{ readonly slot: SlotName } | { readonly failed: string }> {
  const nvram = await readJetsonNvram(file);
  for (let tries = 0; tries < 2; tries++) {
    const slot = nvram.slots[nvram.active];
    if (slot.status === 'normal' && slot.retryCount > 0) {
      slot.retryCount--;
      nvram.current = nvram.active;
      await writeJetsonNvram(file, nvram);
      return { slot: NAMES[nvram.active]! };
    }
    slot.status = 'unbootable';
    slot.retryCount = 0;
    nvram.active = nvram.active === 0 ? 1 : 0;
  }
  await writeJetsonNvram(file, nvram);
  return { failed: 'both rootfs slots are unbootable; the firmware boots recovery' };
}
