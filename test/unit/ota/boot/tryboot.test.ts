/**
 * The Raspberry Pi tryboot backend against a simulated firmware: autoboot.txt as the Raspberry Pi
 * documentation ("autoboot.txt") lays it out — `[all]` with `tryboot_a_b=1` and `boot_partition=N`,
 * `[tryboot]` with the partition to try once — and the firmware's device-tree properties.
 */
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BootSlotInfo } from '../../../../agent/ota/boot/boot-slot-info.js';
import { TrybootBackend } from '../../../../agent/ota/boot/tryboot.js';
import { tempDirs } from '../../../support/temp-dir.js';

const newDir = tempDirs('ota-tryboot-');

/** A Raspberry Pi's view of its boot: autoboot.txt plus the firmware's device-tree properties. */
async function pi(
  /** autoboot.txt as the board ships it; null: there is none. */
  initial: string | null = '[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n',
) {
  const dir = await newDir();
  const dt = path.join(dir, 'dt');
  await mkdir(dt);
  const autoboot = path.join(dir, 'autoboot.txt');
  if (initial !== null) await writeFile(autoboot, initial);
  let bootId = 'boot-1';
  const firmware = async (partition: number, tryboot: boolean) => {
    const u32 = (n: number) => Buffer.from([0, 0, 0, n]);
    await writeFile(path.join(dt, 'partition'), u32(partition));
    await writeFile(path.join(dt, 'tryboot'), u32(tryboot ? 1 : 0));
  };
  await firmware(2, false);
  const info: BootSlotInfo = { bootedSlot: async () => undefined, bootId: async () => bootId };
  const backend = new TrybootBackend(
    {
      autobootTxt: autoboot,
      partitions: { A: 2, B: 3 },
      bootloaderDir: dt,
      stateFile: path.join(dir, 'armed.json'),
    },
    info,
  );
  return {
    backend,
    autoboot,
    dt,
    /** The firmware boots: `[tryboot]` if the reboot asked for it, else `[all]`. */
    reboot: async (args: readonly string[]) => {
      const text = await readFile(autoboot, 'utf8');
      const section = args.includes('0 tryboot') ? 'tryboot' : 'all';
      const m = new RegExp(`\\[${section}\\][^[]*boot_partition=(\\d+)`).exec(text);
      bootId = `boot-${Number(bootId.slice(5)) + 1}`;
      await firmware(Number(m?.[1]), section === 'tryboot');
    },
  };
}

describe('the Raspberry Pi tryboot backend', () => {
  it('reads the booted slot from the firmware and the primary from [all]', async () => {
    const { backend } = await pi();
    expect(await backend.getCurrent()).toBe('A');
    expect(await backend.getPrimary()).toBe('A');
    expect(await backend.getState('A')).toBe('good');
    expect(await backend.getState('B')).toBe('bad');
    expect(await backend.rebootArgs()).toEqual([]);
  });

  it("arms a one-time trial with [tryboot] and `reboot '0 tryboot'`, and commits it to [all]", async () => {
    const { backend, autoboot, reboot } = await pi();
    await backend.setPrimary('B');
    expect(await backend.getPrimary()).toBe('B');
    expect(await backend.rebootArgs()).toEqual(['0 tryboot']);
    expect(await readFile(autoboot, 'utf8')).toBe(
      '[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n',
    );
    await reboot(await backend.rebootArgs());
    expect(await backend.getCurrent()).toBe('B');
    expect(await backend.rebootArgs()).toEqual([]); // the reboot consumed the trial
    await backend.setState('B', 'good');
    expect(await readFile(autoboot, 'utf8')).toBe(
      '[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=2\n',
    );
    await reboot([]);
    expect(await backend.getCurrent()).toBe('B');
  });

  it('falls back by itself: a plain reboot after a failed trial boots [all] again', async () => {
    const { backend, reboot } = await pi();
    await backend.setPrimary('B');
    await reboot(await backend.rebootArgs());
    await reboot([]); // the trial never confirmed; the watchdog reset the board
    expect(await backend.getCurrent()).toBe('A');
    await expect(backend.setState('B', 'good')).rejects.toMatchObject({ code: 'ESTATE' });
  });

  it('refuses to mark the [all] slot bad and disarms a trial marked bad', async () => {
    const { backend } = await pi();
    await expect(backend.setState('A', 'bad')).rejects.toMatchObject({ code: 'EBOOT_ENV' });
    await backend.setPrimary('B');
    await backend.setState('B', 'bad');
    expect(await backend.rebootArgs()).toEqual([]);
    expect(await backend.getPrimary()).toBe('A');
  });

  // The documentation's example file, byte for byte as rauc's raspberrypi backend writes it too.
  const documented = '[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n';

  it('provisions a missing autoboot.txt with [all] tryboot_a_b=1 and the booted partition before a trial', async () => {
    const { backend, autoboot, reboot } = await pi(null);
    await backend.setPrimary('B');
    expect(await readFile(autoboot, 'utf8')).toBe(documented);
    expect(await backend.rebootArgs()).toEqual(['0 tryboot']);
    await reboot(await backend.rebootArgs());
    expect(await backend.getCurrent()).toBe('B');
    await reboot([]); // the trial never confirmed: [all] is there to fall back to
    expect(await backend.getCurrent()).toBe('A');
  });

  it('completes an [all] that names no partition, keeping what is there', async () => {
    const { backend, autoboot } = await pi('tryboot_a_b=1\n# shipped by the image\n');
    await backend.setPrimary('B');
    expect(await readFile(autoboot, 'utf8')).toBe(documented);
  });

  it('provisions [all] alone when the running slot is made primary or good on a fresh board', async () => {
    const fresh = await pi(null);
    await fresh.backend.setPrimary('A');
    expect(await readFile(fresh.autoboot, 'utf8')).toBe('[all]\ntryboot_a_b=1\nboot_partition=2\n');
    expect(await fresh.backend.rebootArgs()).toEqual([]);
    const other = await pi(null);
    await other.backend.setState('A', 'good');
    expect(await readFile(other.autoboot, 'utf8')).toBe('[all]\ntryboot_a_b=1\nboot_partition=2\n');
    expect(await other.backend.getPrimary()).toBe('A');
    expect(await other.backend.getState('A')).toBe('good');
  });

  it('writes nothing when the firmware does not say which partition booted', async () => {
    const { backend, autoboot, dt } = await pi(null);
    await rm(path.join(dt, 'partition'));
    await expect(backend.setPrimary('B')).rejects.toMatchObject({ code: 'EBOOT_ENV' });
    await expect(access(autoboot)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
