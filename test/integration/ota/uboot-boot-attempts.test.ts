/**
 * Boot budgets of 10–15 attempts end to end, over a real redundant U-Boot environment: the agent's
 * U-Boot backend arms a trial (through the real fw_setenv, or natively), the real fw_printenv reads
 * the counter back exactly as the agent wrote it (hex: `a`…`f`), and the emulated bootloader — which
 * runs boards/uboot-ab.script with U-Boot's `test` and `setexpr` — gives the trial that many boots.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { AbEnvBackend } from '../../../agent/ota/boot/ab-env-backend.js';
import { FwToolsUbootEnv, NativeUbootEnv } from '../../../agent/ota/boot/uboot-env-store.js';
import { DeviceEmulator, PANIC_MARKER } from '../../../scripts/ota-emulator/device-emulator.js';
import { FACTORY_BOOT_VARS, writeRedundantUbootEnv } from '../../../scripts/ota-emulator/provision.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-attempts-');

function printenv(config: string, name: string): string {
  return execFileSync('fw_printenv', ['-c', config, '-n', name], { encoding: 'utf8' }).trim();
}

async function device(dir: string, tool: 'fw' | 'native', attempts: number) {
  const config = path.join(dir, 'boot/fw_env.config');
  await writeRedundantUbootEnv(path.join(dir, 'boot/uboot.env'), config, FACTORY_BOOT_VARS);
  const slots = { A: path.join(dir, 'a.img'), B: path.join(dir, 'b.img') };
  await writeFile(slots.A, 'EDGE-SIM-ROOTFS factory\n');
  const store =
    tool === 'fw' ? new FwToolsUbootEnv({ configFile: config }) : new NativeUbootEnv({ configFile: config });
  const backend = new AbEnvBackend(
    'uboot',
    store,
    { bootedSlot: async () => 'A', bootId: async () => 'b' },
    { attempts },
  );
  const emulator = new DeviceEmulator({
    dir: path.join(dir, 'emu'),
    components: [
      {
        name: 'rootfs',
        boot: { kind: 'uboot', fwEnvConfig: config },
        cmdlineParam: 'rauc.slot',
        slots: { A: { kind: 'image', path: slots.A }, B: { kind: 'image', path: slots.B } },
      },
    ],
  });
  return { config, slots, backend, emulator };
}

describeWithTools(['fw_printenv', 'fw_setenv'], 'boot budgets above 9 (hex counters)', () => {
  for (const tool of ['fw', 'native'] as const) {
    it(`the agent writes a budget of 10–15 (${tool}) as fw_printenv reads it, and the bootloader spends it`, async () => {
      for (let budget = 10; budget <= 15; budget++) {
        const d = await device(await newDir(), tool, budget);
        await writeFile(d.slots.B, 'EDGE-SIM-ROOTFS 2.0\n');
        await d.backend.setPrimary('B');
        expect(printenv(d.config, 'BOOT_B_LEFT')).toBe(budget.toString(16));
        expect(printenv(d.config, 'BOOT_ORDER')).toBe('B A');

        const boot = await d.emulator.powerOn();
        expect(boot.slots.rootfs).toBe('B');
        // setexpr's result, in hex as the agent reads it: one attempt spent.
        expect(printenv(d.config, 'BOOT_B_LEFT')).toBe((budget - 1).toString(16));
        expect(await d.backend.getState('B')).toBe('good');
      }
    });
  }

  it('a trial with a budget of 12 that panics is booted exactly 12 times, then the board falls back to A', async () => {
    const d = await device(await newDir(), 'fw', 12);
    await writeFile(d.slots.B, `${PANIC_MARKER} kernel oops\n`);
    await d.backend.setPrimary('B');
    expect(printenv(d.config, 'BOOT_B_LEFT')).toBe('c');

    const boot = await d.emulator.powerOn();
    expect(boot.failedBoots).toEqual(Array<string>(12).fill('rootfs: slot B panicked'));
    expect(boot.slots.rootfs).toBe('A');
    expect(printenv(d.config, 'BOOT_B_LEFT')).toBe('0');
    expect(printenv(d.config, 'BOOT_A_LEFT')).toBe('2');
    expect(await d.backend.getState('B')).toBe('bad');
    expect(await d.backend.getPrimary()).toBe('A');
  });
});
