/**
 * The `efi` boot backend through the BootBackend interface, driving the scripted efibootmgr
 * (test/support/fake-efibootmgr.mjs, a child process per call) over an NVRAM the emulator's UEFI boot
 * manager (scripts/ota-emulator/uefi-firmware.ts) boots from: a BootNext trial that commits into
 * BootOrder, one that falls back by itself, cancelling, marking bad, entries named by label or number,
 * a read-only efivarfs and a write that does not read back.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EfiBackend } from '../../../agent/ota/boot/efi.js';
import type { SlotName } from '../../../agent/ota/boot/types.js';
import { InstallError } from '../../../agent/ota/install-errors.js';
import { type RunCommand, runCommand } from '../../../agent/ota/run-command.js';
import {
  readUefiNvram,
  type UefiNvram,
  uefiFactoryNvram,
  uefiFirmwareBoot,
  writeUefiNvram,
} from '../../../scripts/ota-emulator/uefi-firmware.js';
import { rejection } from '../../support/rejection.js';
import { FAKE_EFIBOOTMGR } from '../../support/sim-ota-device.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-efi-');

async function uefi(
  change: (n: UefiNvram) => void = () => undefined,
  entries: Record<SlotName, string> = { A: 'rootfs A', B: 'rootfs B' },
  wrap: (run: RunCommand) => RunCommand = (run) => run,
) {
  const dir = await newDir();
  const file = path.join(dir, 'efivars.json');
  const initial = uefiFactoryNvram();
  change(initial);
  await writeUefiNvram(file, initial);
  const run: RunCommand = (argv, o) =>
    runCommand(argv, { ...o, env: { ...process.env, FAKE_EFIBOOTMGR_STATE: file } });
  return {
    backend: new EfiBackend({ efibootmgr: FAKE_EFIBOOTMGR, entries }, wrap(run)),
    /** A power-on: the boot manager consumes BootNext or follows BootOrder. */
    boot: async () => {
      const choice = await uefiFirmwareBoot(file);
      if ('failed' in choice) throw new Error(choice.failed);
      return choice.slot;
    },
    nvram: () => readUefiNvram(file),
  };
}

describe('the efi boot backend', () => {
  it('reads the running slot from BootCurrent and the states from BootOrder', async () => {
    const { backend, boot } = await uefi();
    expect(await boot()).toBe('A');
    expect(await backend.getCurrent()).toBe('A');
    expect(await backend.getPrimary()).toBe('A');
    expect(await backend.getState('A')).toBe('good');
    expect(await backend.getState('B')).toBe('bad'); // not in BootOrder yet
    expect(await backend.inspect()).toEqual({
      BootCurrent: '0001',
      BootOrder: '0001,0000',
      A: 'Boot0001* rootfs A',
      B: 'Boot0002* rootfs B',
    });
  });

  it('tries a slot once through BootNext and commits it first in BootOrder', async () => {
    const { backend, boot, nvram } = await uefi();
    await boot();
    await backend.setState('B', 'bad');
    await backend.setPrimary('B');
    expect((await nvram()).bootNext).toBe('0002');
    expect(await backend.getPrimary()).toBe('B');
    expect(await backend.getState('B')).toBe('bad'); // a trial, not in BootOrder until confirmed

    expect(await boot()).toBe('B');
    expect(await backend.getCurrent()).toBe('B');
    expect((await nvram()).bootNext).toBeNull();
    await backend.setState('B', 'good');
    expect((await nvram()).bootOrder).toEqual(['0002', '0001', '0000']);
    expect(await backend.getPrimary()).toBe('B');
    expect(await backend.getState('A')).toBe('good'); // still the fallback
    expect(await boot()).toBe('B');
  });

  it('falls back to BootOrder by itself when the trial does not come up', async () => {
    const { backend, boot } = await uefi();
    await boot();
    await backend.setPrimary('B');
    expect(await boot()).toBe('B'); // …which panics before anything confirms it
    expect(await boot()).toBe('A');
    expect(await backend.getPrimary()).toBe('A');
    await backend.setState('B', 'bad');
    await backend.setPrimary('A'); // the installer's fall-back: nothing to do, A is first
    expect(await backend.getPrimary()).toBe('A');
  });

  it('cancels an armed trial: set-primary of the first slot and mark-bad both delete BootNext', async () => {
    const { backend, boot, nvram } = await uefi();
    await boot();
    await backend.setPrimary('B');
    await backend.setPrimary('A');
    expect((await nvram()).bootNext).toBeNull();
    await backend.setPrimary('B');
    await backend.setState('B', 'bad');
    expect((await nvram()).bootNext).toBeNull();
    expect(await boot()).toBe('A');
  });

  it('takes a bad slot out of BootOrder, but never the last slot in it', async () => {
    const { backend, boot, nvram } = await uefi((n) => {
      n.bootOrder = ['0002', '0001', '0000'];
    });
    await boot();
    await backend.setState('A', 'bad');
    expect((await nvram()).bootOrder).toEqual(['0002', '0000']);
    const e = await rejection(backend.setState('B', 'bad'));
    expect(e).toBeInstanceOf(InstallError);
    expect(e).toMatchObject({
      code: 'EBOOT_ENV',
      message: expect.stringContaining('only slot in BootOrder'),
    });
  });

  it('finds entries by boot number too, and names a missing or ambiguous label', async () => {
    const byNumber = await uefi(undefined, { A: '0001', B: '0002' });
    await byNumber.boot();
    expect(await byNumber.backend.getCurrent()).toBe('A');

    const missing = await uefi(undefined, { A: 'rootfs A', B: 'system B' });
    expect(await rejection(missing.backend.getPrimary())).toMatchObject({
      code: 'EBOOT_ENV',
      message: expect.stringContaining(
        'no boot entry labelled "system B" for slot B (create it once with efibootmgr -c',
      ),
    });
    const twice = await uefi((n) => {
      n.entries.push({ num: '0003', label: 'rootfs B', active: true, path: 'HD(4)' });
    });
    expect(await rejection(twice.backend.getPrimary())).toMatchObject({
      code: 'EBOOT_ENV',
      message: expect.stringContaining('2 boot entries are labelled "rootfs B"'),
    });
  });

  it('names the command and the error when efivarfs is read-only', async () => {
    const { backend, boot } = await uefi((n) => {
      n.readOnly = true;
    });
    await boot();
    const e = await rejection(backend.setPrimary('B'));
    expect(e).toMatchObject({
      code: 'EBOOT_ENV',
      message: `${FAKE_EFIBOOTMGR} -n 0002 exited with 13: efibootmgr: Could not set BootNext: Read-only file system`,
    });
  });

  it('fails a write that does not read back', async () => {
    const { backend, boot } = await uefi(
      undefined,
      undefined,
      (run) => async (argv, o) => (argv.length > 1 ? { code: 0, stdout: '', stderr: '' } : run(argv, o)),
    );
    await boot();
    expect(await rejection(backend.setPrimary('B'))).toMatchObject({
      code: 'EBOOT_READBACK',
      message: 'efibootmgr did not read back: BootNext reads unset, expected 0002 (slot B)',
    });
    expect(await rejection(backend.setState('B', 'good'))).toMatchObject({ code: 'EBOOT_READBACK' });
  });
});
