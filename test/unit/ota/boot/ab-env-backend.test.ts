import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AbEnvBackend } from '../../../../agent/ota/boot/ab-env-backend.js';
import type { BootVarChanges } from '../../../../agent/ota/boot/boot-order.js';
import {
  type BootSlotInfo,
  fileBootSlotInfo,
  slotFromCmdline,
} from '../../../../agent/ota/boot/boot-slot-info.js';
import { FileEnvStore, formatEnvText, parseEnvText } from '../../../../agent/ota/boot/file.js';
import type { UbootEnvStore } from '../../../../agent/ota/boot/uboot-env-store.js';
import { NativeUbootEnv } from '../../../../agent/ota/boot/uboot-env-store.js';
import { writeRedundantUbootEnv } from '../../../../scripts/ota-emulator/provision.js';
import { tempDirs } from '../../../support/temp-dir.js';

const newDir = tempDirs('ota-abenv-');
const onSlot = (slot: 'A' | 'B'): BootSlotInfo => ({ bootedSlot: async () => slot, bootId: async () => 'x' });

describe('the booted slot on the kernel command line', () => {
  it('is the last rauc.slot= before --', () => {
    expect(slotFromCmdline('console=ttyS0 rauc.slot=A rauc.slot=B quiet', 'rauc.slot')).toBe('B');
    expect(slotFromCmdline('rauc.slot=A -- rauc.slot=B', 'rauc.slot')).toBe('A');
    expect(slotFromCmdline('rauc.slot=C', 'rauc.slot')).toBeUndefined();
    expect(slotFromCmdline('edge.agent.slot=B rauc.slot=A', 'edge.agent.slot')).toBe('B');
  });

  it('is read from the configured files, and unknown when they are missing', async () => {
    const dir = await newDir();
    await writeFile(path.join(dir, 'cmdline'), 'root=/dev/sda rauc.slot=B\n');
    await writeFile(path.join(dir, 'boot_id'), '3f1c\n');
    const info = fileBootSlotInfo({ cmdline: path.join(dir, 'cmdline'), bootId: path.join(dir, 'boot_id') });
    expect(await info.bootedSlot('rauc.slot')).toBe('B');
    expect(await info.bootId()).toBe('3f1c');
    const none = fileBootSlotInfo({ cmdline: path.join(dir, 'nope'), bootId: path.join(dir, 'nope') });
    expect(await none.bootedSlot('rauc.slot')).toBeUndefined();
    expect(await none.bootId()).toBe('');
  });
});

describe('the A/B backend over a key/value store (U-Boot environment, file)', () => {
  it('walks install, trial and commit through the native U-Boot environment', async () => {
    const dir = await newDir();
    const config = path.join(dir, 'fw_env.config');
    await writeRedundantUbootEnv(
      path.join(dir, 'uboot.env'),
      config,
      new Map([
        ['BOOT_ORDER', 'A'],
        ['BOOT_A_LEFT', '3'],
        ['bootcmd', 'boot'],
      ]),
    );
    const uboot = new AbEnvBackend('uboot', new NativeUbootEnv({ configFile: config }), onSlot('A'));
    await uboot.setState('B', 'bad');
    await uboot.setPrimary('B');
    expect(await uboot.inspect()).toEqual({
      BOOT_ORDER: 'B A',
      BOOT_A_LEFT: '3',
      BOOT_B_LEFT: '3',
      bootcmd: 'boot',
    });
    expect(await uboot.getPrimary()).toBe('B');
    await uboot.setState('B', 'good');
    expect(await uboot.getState('B')).toBe('good');
    expect(await uboot.getCurrent()).toBe('A');
  });

  it('keeps a file backend in name=value lines and treats a missing file as empty', async () => {
    const file = path.join(await newDir(), 'agent-boot.env');
    const backend = new AbEnvBackend('file', new FileEnvStore({ file }), onSlot('A'), {
      cmdlineParam: 'edge.agent.slot',
    });
    expect(await backend.getPrimary()).toBeUndefined();
    await backend.setState('A', 'good');
    expect(parseEnvText(formatEnvText(new Map([['BOOT_ORDER', 'A']])))).toEqual(
      new Map([['BOOT_ORDER', 'A']]),
    );
    expect(await backend.inspect()).toEqual({ BOOT_ORDER: 'A', BOOT_A_LEFT: '3' });
  });

  it('refuses a write that does not read back, naming the variables', async () => {
    const store = new Map<string, string>([
      ['BOOT_ORDER', 'A'],
      ['BOOT_A_LEFT', '3'],
    ]);
    const lying: UbootEnvStore = {
      read: async () => new Map(store),
      write: async (changes: BootVarChanges) => {
        for (const [k, v] of Object.entries(changes)) if (k !== 'BOOT_ORDER' && v !== null) store.set(k, v);
      },
    };
    const backend = new AbEnvBackend('uboot', lying, onSlot('A'));
    await expect(backend.setPrimary('B')).rejects.toMatchObject({
      code: 'EBOOT_READBACK',
      message: expect.stringContaining('BOOT_ORDER'),
    });
  });

  it('refuses to write over a corrupt environment rather than replace it with ours alone', async () => {
    const dir = await newDir();
    const config = path.join(dir, 'fw_env.config');
    await writeFile(path.join(dir, 'uboot.env'), Buffer.alloc(0x8000, 0xff));
    await writeFile(
      config,
      `${path.join(dir, 'uboot.env')} 0 0x4000\n${path.join(dir, 'uboot.env')} 0x4000 0x4000\n`,
    );
    const uboot = new AbEnvBackend('uboot', new NativeUbootEnv({ configFile: config }), onSlot('A'));
    await expect(uboot.setPrimary('B')).rejects.toMatchObject({ code: 'EBOOT_ENV' });
  });

  it('rejects nonsense attempt budgets as misuse', () => {
    expect(
      () => new AbEnvBackend('file', new FileEnvStore({ file: '/x' }), onSlot('A'), { attempts: 0 }),
    ).toThrow(TypeError);
  });
});
