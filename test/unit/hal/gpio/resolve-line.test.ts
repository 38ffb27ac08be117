/**
 * Line resolution against fake sysfs trees that copy real boards. Sources for the chip tables:
 *  - Pi 4, kernel 6.6: `pinctrl-bcm2711` (58 lines) at base 512 and `raspberrypi-exp-gpio` (8 lines,
 *    the firmware's expander) after it — line counts from `gpiodetect` in WiringPi/WiringPi#280, base
 *    512 from raspberrypi/linux#6037 ("no longer overrides ... base number ... to be global GPIO 0").
 *  - Pi 5, kernel 6.6.20: four SoC chips `gpio-brcmstb@107d508500` (32, base 512), `…@107d508520` (4,
 *    544), `…@107d517c00` (17, 548), `…@107d517c20` (6, 565), then the header's `pinctrl-rp1` (54) at
 *    571 — `/sys/kernel/debug/gpio` in raspberrypi/linux#6037 and `gpiodetect` in WiringPi#280.
 *    (raspberrypi/linux#6144 later renumbered the /dev/gpiochipN devices, not the labels.)
 *  - Jetson Orin (tegra234, JetPack 5): `tegra234-gpio` (164 lines) at base 348 and
 *    `tegra234-gpio-aon` (32) at 316 — `gpiochip348/ngpio` etc. on an Orin devkit in periph/host#26,
 *    and NVIDIA's DRIVE OS guide "Calculating GPIO Index in Linux" ("registered GPIOs 348 to 511 on
 *    tegra234-gpio", "316 to 347 on tegra234-gpio-aon"). Header pin 7 of the Orin Nano devkit is PAC.06
 *    = tegra234-gpio offset 144 (NVIDIA/jetson-gpio#113) = sysfs gpio492; PCC.00 is aon offset 12 = 328.
 *    JetPack 6 kernels ship without CONFIG_GPIO_SYSFS (pjueon/JetsonGPIO#117): there `ENOGPIO`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { GpioError } from '../../../../agent/hal/gpio/errors.js';
import { findLine, listGpioChips, resolveLine } from '../../../../agent/hal/gpio/resolve-line.js';
import type { GpioChipInfo } from '../../../../agent/hal/gpio/types.js';
import { tempDirs } from '../../../support/temp-dir.js';

const PI4: GpioChipInfo[] = [
  { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
  { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
];
const PI5: GpioChipInfo[] = [
  { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
  { label: 'gpio-brcmstb@107d508520', base: 544, ngpio: 4 },
  { label: 'gpio-brcmstb@107d517c00', base: 548, ngpio: 17 },
  { label: 'gpio-brcmstb@107d517c20', base: 565, ngpio: 6 },
  { label: 'pinctrl-rp1', base: 571, ngpio: 54 },
];
const ORIN_NANO: GpioChipInfo[] = [
  { label: 'tegra234-gpio', base: 348, ngpio: 164 },
  { label: 'tegra234-gpio-aon', base: 316, ngpio: 32 },
];

const tempDir = tempDirs('gpio-sysfs-');
let root: string;

beforeEach(async () => {
  root = await tempDir();
});

/** Writes `<root>/class/gpio/gpiochip<base>/{label,base,ngpio}` plus export/unexport, as the kernel does. */
async function fakeSysfs(chips: readonly GpioChipInfo[]): Promise<string> {
  const dir = path.join(root, 'class', 'gpio');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'export'), '');
  await writeFile(path.join(dir, 'unexport'), '');
  for (const c of chips) {
    const chipDir = path.join(dir, `gpiochip${c.base}`);
    await mkdir(chipDir);
    await writeFile(path.join(chipDir, 'label'), `${c.label}\n`);
    await writeFile(path.join(chipDir, 'base'), `${c.base}\n`);
    await writeFile(path.join(chipDir, 'ngpio'), `${c.ngpio}\n`);
  }
  return root;
}

describe('resolveLine on real board layouts', () => {
  it.each([
    ['Pi 4: BCM GPIO17 is 529, not 17', PI4, 'pinctrl-bcm2711', 17, 529],
    ['Pi 4: the last BCM line', PI4, 'pinctrl-bcm2711', 57, 569],
    ['Pi 4: the firmware expander follows the SoC chip', PI4, 'raspberrypi-exp-gpio', 0, 570],
    ['Pi 5: BCM GPIO17 on the RP1 is 588', PI5, 'pinctrl-rp1', 17, 588],
    ['Pi 5: GPIO0 on the RP1 is 571', PI5, 'pinctrl-rp1', 0, 571],
    ['Pi 5: a SoC chip is found by its own label', PI5, 'gpio-brcmstb@107d517c00', 3, 551],
    ['Orin Nano: header pin 7 (PAC.06) is 492', ORIN_NANO, 'tegra234-gpio', 144, 492],
    ['Orin Nano: PCC.00 on the always-on chip is 328', ORIN_NANO, 'tegra234-gpio-aon', 12, 328],
  ])('%s', async (_name, chips, chip, offset, expected) => {
    const sysfs = await fakeSysfs(chips);
    await expect(resolveLine({ chip, offset }, sysfs)).resolves.toBe(expected);
  });

  it('lists the chips ordered by base, whatever order the directory gives', async () => {
    const sysfs = await fakeSysfs(ORIN_NANO);
    await expect(listGpioChips(sysfs)).resolves.toEqual([ORIN_NANO[1], ORIN_NANO[0]]);
  });

  it('ignores entries that are not gpiochips and chips whose attributes do not parse', async () => {
    const sysfs = await fakeSysfs(PI4);
    const broken = path.join(sysfs, 'class', 'gpio', 'gpiochip600');
    await mkdir(broken);
    await writeFile(path.join(broken, 'label'), 'broken\n');
    await writeFile(path.join(broken, 'base'), 'n/a\n');
    await writeFile(path.join(broken, 'ngpio'), '8\n');
    await mkdir(path.join(sysfs, 'class', 'gpio', 'gpio529'));
    await expect(listGpioChips(sysfs)).resolves.toEqual(PI4);
  });
});

describe('resolveLine errors', () => {
  it('names the missing label and the labels the host has (a Pi 4 profile on a Pi 5)', async () => {
    const sysfs = await fakeSysfs(PI5);
    const error = await resolveLine({ chip: 'pinctrl-bcm2711', offset: 17 }, sysfs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpioError);
    expect(error).toMatchObject({
      code: 'EUNKNOWN_CHIP',
      line: { chip: 'pinctrl-bcm2711', offset: 17 },
      chips: PI5.map((c) => c.label),
    });
    expect((error as Error).message).toMatch(/no gpiochip labelled 'pinctrl-bcm2711'.*'pinctrl-rp1'/);
  });

  it.each([
    ['the first offset past the chip', 58],
    ['an offset far past it', 1000],
  ])('refuses %s, naming the chip and its line count', async (_name, offset) => {
    const sysfs = await fakeSysfs(PI4);
    const error = await resolveLine({ chip: 'pinctrl-bcm2711', offset }, sysfs).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EOFFSET_RANGE' });
    expect((error as Error).message).toContain("'pinctrl-bcm2711' has 58 lines (0–57)");
  });

  it('refuses a label two chips share, rather than guessing', () => {
    const twoExpanders: GpioChipInfo[] = [
      { label: 'mcp23017', base: 512, ngpio: 16 },
      { label: 'mcp23017', base: 528, ngpio: 16 },
    ];
    expect(() => findLine(twoExpanders, { chip: 'mcp23017', offset: 0 })).toThrow(
      expect.objectContaining({ code: 'EAMBIGUOUS_CHIP' }),
    );
  });

  it('reports ENOGPIO when the kernel has no GPIO sysfs class (JetPack 6, a laptop)', async () => {
    const error = await resolveLine({ chip: 'tegra234-gpio', offset: 144 }, root).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOGPIO' });
    expect((error as Error).message).toContain('CONFIG_GPIO_SYSFS');
  });

  it.each([
    ['a negative offset', { chip: 'pinctrl-rp1', offset: -1 }],
    ['a fractional offset', { chip: 'pinctrl-rp1', offset: 1.5 }],
    ['an empty label', { chip: '', offset: 1 }],
  ])('throws TypeError for %s before touching sysfs', async (_name, ref) => {
    await expect(resolveLine(ref, root)).rejects.toThrow(TypeError);
  });
});
