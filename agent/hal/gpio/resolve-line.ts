/**
 * Turns a line named by chip label and offset into the global number the sysfs GPIO interface wants,
 * by reading `<sysfs>/class/gpio/gpiochipN/{label,base,ngpio}`. Global numbers are not stable: since
 * Raspberry Pi kernel 6.6 the SoC's gpiochip is no longer pinned to base 0 (upstream forbids fixed
 * bases), so BCM GPIO17 is 529 on a Pi 4 (base 512) and 588 on a Pi 5 (pinctrl-rp1 at base 571, after
 * the four brcmstb chips); writing the old "17" to `export` fails with EINVAL (raspberrypi/linux#6037,
 * #6084). A Jetson's bases depend on probe order the same way. Labels and offsets do not move, so board
 * profiles use those and the number is looked up at open time. `sysfsRoot` is a seam: tests point it at
 * a temp dir holding a fake tree.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkLineRef } from './check-options.js';
import { formatLine, GpioError } from './errors.js';
import type { GpioChipInfo, GpioLineRef } from './types.js';

export const DEFAULT_SYSFS_ROOT = '/sys';

/** The chips under `<sysfsRoot>/class/gpio`, ordered by base. Rejects `ENOGPIO` if there is no such class. */
export async function listGpioChips(sysfsRoot: string = DEFAULT_SYSFS_ROOT): Promise<GpioChipInfo[]> {
  const dir = path.join(sysfsRoot, 'class', 'gpio');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new GpioError(
      'ENOGPIO',
      `cannot list ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'}): this kernel has no GPIO sysfs ` +
        'interface (CONFIG_GPIO_SYSFS, disabled e.g. on JetPack 6) or the agent may not read it',
      {},
      { cause: error },
    );
  }
  const chips: GpioChipInfo[] = [];
  for (const name of names.filter((n) => /^gpiochip\d+$/.test(n))) {
    const read = (file: string) => readFile(path.join(dir, name, file), 'utf8').then((s) => s.trim());
    const [label, base, ngpio] = await Promise.all([read('label'), read('base'), read('ngpio')]);
    const baseN = Number(base);
    const ngpioN = Number(ngpio);
    // A chip whose attributes do not parse is skipped rather than allowed to break lookups of the others.
    if (label && Number.isInteger(baseN) && baseN >= 0 && Number.isInteger(ngpioN) && ngpioN > 0) {
      chips.push({ label, base: baseN, ngpio: ngpioN });
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/** The global number of `ref` among `chips`; throws `EUNKNOWN_CHIP`, `EAMBIGUOUS_CHIP` or `EOFFSET_RANGE`. */
export function findLine(chips: readonly GpioChipInfo[], ref: GpioLineRef): number {
  return findChip(chips, ref).base + ref.offset;
}

/** The chip that holds `ref`; throws `EUNKNOWN_CHIP`, `EAMBIGUOUS_CHIP` or `EOFFSET_RANGE`. */
export function findChip(chips: readonly GpioChipInfo[], ref: GpioLineRef): GpioChipInfo {
  checkLineRef(ref);
  const matches = chips.filter((c) => c.label === ref.chip);
  const labels = chips.map((c) => c.label);
  const chip = matches[0];
  if (!chip) {
    const known = labels.length > 0 ? labels.map((l) => `'${l}'`).join(', ') : 'none';
    throw new GpioError(
      'EUNKNOWN_CHIP',
      `gpio ${formatLine(ref)}: no gpiochip labelled '${ref.chip}' (chips: ${known})`,
      {
        line: ref,
        chips: labels,
      },
    );
  }
  if (matches.length > 1) {
    throw new GpioError(
      'EAMBIGUOUS_CHIP',
      `gpio ${formatLine(ref)}: ${matches.length} gpiochips are labelled '${ref.chip}' (${matches.map((c) => c.name ?? `base ${c.base}`).join(', ')})`,
      { line: ref, chips: labels },
    );
  }
  if (ref.offset >= chip.ngpio) {
    throw new GpioError(
      'EOFFSET_RANGE',
      `gpio ${formatLine(ref)}: offset ${ref.offset} is out of range, '${ref.chip}' has ${chip.ngpio} lines (0–${chip.ngpio - 1})`,
      { line: ref, chips: labels },
    );
  }
  return chip;
}

/** Reads the host's chips and returns the global sysfs number of `ref`. */
export async function resolveLine(ref: GpioLineRef, sysfsRoot: string = DEFAULT_SYSFS_ROOT): Promise<number> {
  checkLineRef(ref);
  return findLine(await listGpioChips(sysfsRoot), ref);
}
