/**
 * What LinuxGpio does before it touches a line, which needs no hardware: it resolves against the sysfs
 * root it was given and fails with the bus's own errors. Opening real lines is the contract suite's job
 * (HAL_TEST_GPIO_OUT / HAL_TEST_GPIO_IN).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LinuxGpio } from '../../../../agent/hal/gpio/linux.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { tempDirs } from '../../../support/temp-dir.js';

const tempDir = tempDirs('gpio-linux-');

async function pi5Sysfs(): Promise<string> {
  const root = await tempDir();
  const chip = path.join(root, 'class', 'gpio', 'gpiochip571');
  await mkdir(chip, { recursive: true });
  await writeFile(path.join(chip, 'label'), 'pinctrl-rp1\n');
  await writeFile(path.join(chip, 'base'), '571\n');
  await writeFile(path.join(chip, 'ngpio'), '54\n');
  return root;
}

describe('LinuxGpio', () => {
  it('lists the chips under its sysfs root', async () => {
    const gpio = new LinuxGpio({ clock: new FakeClock(), sysfsRoot: await pi5Sysfs() });
    await expect(gpio.listChips()).resolves.toEqual([{ label: 'pinctrl-rp1', base: 571, ngpio: 54 }]);
  });

  it('fails an open with EUNKNOWN_CHIP for a label the host lacks, and frees the claim', async () => {
    const gpio = new LinuxGpio({ clock: new FakeClock(), sysfsRoot: await pi5Sysfs() });
    const ref = { chip: 'pinctrl-bcm2711', offset: 17 };
    await expect(gpio.openOutput(ref, { initial: 0 })).rejects.toMatchObject({ code: 'EUNKNOWN_CHIP' });
    await expect(gpio.openInput(ref)).rejects.toMatchObject({ code: 'EUNKNOWN_CHIP' }); // not EBUSY
  });

  it('fails an open with ENOGPIO on a host without the GPIO sysfs class', async () => {
    const gpio = new LinuxGpio({ clock: new FakeClock(), sysfsRoot: await tempDir() });
    await expect(gpio.openInput({ chip: 'pinctrl-rp1', offset: 4 })).rejects.toMatchObject({
      code: 'ENOGPIO',
    });
  });

  it('checks its arguments before any I/O', async () => {
    const gpio = new LinuxGpio({ clock: new FakeClock(), sysfsRoot: '/nonexistent' });
    await expect(gpio.openInput({ chip: 'pinctrl-rp1', offset: 4 }, { edge: 'up' as never })).rejects.toThrow(
      /options\.edge/,
    );
    await expect(
      gpio.openOutput({ chip: 'pinctrl-rp1', offset: 4 }, { initial: 0, activeLow: 'yes' as never }),
    ).rejects.toThrow(TypeError);
  });
});
