/**
 * A UEFI boot manager's choice (UEFI 2.10 §3.1), played by the device emulator at every power-on over
 * the fake NVRAM that the fake efibootmgr (test/support/fake-efibootmgr.mjs) reads and writes: BootNext,
 * when set, is deleted and its entry booted once; otherwise the first active entry of BootOrder is.
 * BootCurrent records the entry booted. A slot that panics resets the board, and the next power-on
 * finds BootNext already gone — so a failed trial falls back to BootOrder by itself. Booting an entry
 * that is not one of the slots (the UEFI Shell) leaves the device without its system: not booted.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { SLOT_NAMES, type SlotName } from '../../agent/ota/boot/types.js';

export interface UefiBootEntry {
  num: string;
  label: string;
  active: boolean;
  path: string;
}

/** The fake's state file: the Boot#### variables and the boot manager's globals. */
export interface UefiNvram {
  timeoutS: number;
  bootCurrent: string | null;
  bootNext: string | null;
  bootOrder: string[];
  entries: UefiBootEntry[];
  /** efivarfs mounted read-only: the fake's writes fail (a test's fault injection). */
  readOnly?: boolean;
}

/** Labels of the slots' boot entries on an emulated board. */
export const UEFI_SLOT_LABELS: Readonly<Record<SlotName, string>> = { A: 'rootfs A', B: 'rootfs B' };

/** A board set up once with `efibootmgr -c` for each slot: A first in BootOrder, B not listed yet. */
export function uefiFactoryNvram(): UefiNvram {
  const disk = (part: number) =>
    `HD(${part},GPT,5e0c9a1b-0000-4000-8000-00000000000${part},0x800,0x100000)/File(\\EFI\\BOOT\\BOOTAA64.EFI)`;
  return {
    timeoutS: 1,
    bootCurrent: '0001',
    bootNext: null,
    bootOrder: ['0001', '0000'],
    entries: [
      {
        num: '0000',
        label: 'UEFI Shell',
        active: true,
        path: 'FvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)',
      },
      { num: '0001', label: UEFI_SLOT_LABELS.A, active: true, path: disk(2) },
      { num: '0002', label: UEFI_SLOT_LABELS.B, active: true, path: disk(3) },
    ],
  };
}

export async function readUefiNvram(file: string): Promise<UefiNvram> {
  return JSON.parse(await readFile(file, 'utf8')) as UefiNvram;
}

export async function writeUefiNvram(file: string, nvram: UefiNvram): Promise<void> {
  const tmp = `${file}.fw.tmp`;
  await writeFile(tmp, `${JSON.stringify(nvram, null, 2)}\n`);
  await rename(tmp, file);
}

/** One power-on's choice: the slot whose entry was booted, or why no slot was. */
export async function uefiFirmwareBoot(
  file: string,
  labels: Readonly<Record<SlotName, string>> = UEFI_SLOT_LABELS,
): Promise<{ readonly slot: SlotName } | { readonly failed: string }> {
  const nvram = await readUefiNvram(file);
  const candidates = [...(nvram.bootNext ? [nvram.bootNext] : []), ...nvram.bootOrder];
  nvram.bootNext = null; // deleted before the boot option is tried
  const entry = candidates
    .map((num) => nvram.entries.find((e) => e.num === num))
    .find((e): e is UefiBootEntry => e?.active === true);
  nvram.bootCurrent = entry?.num ?? null;
  await writeUefiNvram(file, nvram);
  if (!entry) return { failed: `no active boot entry in BootOrder ${nvram.bootOrder.join(',')}` };
  const slot = SLOT_NAMES.find((s) => labels[s] === entry.label);
  return slot ? { slot } : { failed: `the firmware booted Boot${entry.num} (${entry.label}), not a slot` };
}
