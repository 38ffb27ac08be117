/**
 * Raspberry Pi firmware `tryboot` backend (Raspberry Pi documentation "autoboot.txt" and "tryboot";
 * rauc `src/bootloaders/raspberrypi.c`). `autoboot.txt` on the first FAT partition names the
 * partition to boot in `[all] boot_partition=N` and the one to try once in `[tryboot]`; the trial
 * starts with `reboot '0 tryboot'` (the firmware clears the flag, so any later reset goes back to
 * `[all]` by itself). The firmware reports what it did in the device tree:
 * `/proc/device-tree/chosen/bootloader/partition` and `.../tryboot` (big-endian u32).
 *
 * Verbs: set-primary(other) writes `[tryboot]` and arms the trial (remembered with the boot id, since
 * the firmware's flag cannot be read without `vcmailbox`), so `rebootArgs()` returns `0 tryboot`;
 * set-state(good) of the slot booted by tryboot makes it `[all]` (the commit); good = the `[all]`
 * slot. Marking the `[all]` slot bad is refused: the firmware has no other fallback.
 *
 * Provisioning: a boot partition with no autoboot.txt (or one whose `[all]` names no partition) gets
 * the complete file the documentation shows, `[all]
tryboot_a_b=1
boot_partition=N` with N the
 * partition the firmware booted, before the first trial is armed — otherwise `[all]` would name no
 * partition to fall back to. Without the firmware's word on the booted partition nothing is written.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readIfExists, unlinkDurable, writeDurable } from '../../core/durable-file.js';
import { InstallError } from '../install-errors.js';
import type { BootSlotInfo } from './boot-slot-info.js';
import { type BootBackend, otherSlot, type SlotName, type SlotState } from './types.js';

export interface TrybootOptions {
  /** Path of autoboot.txt (on the boot-selector FAT partition). */
  readonly autobootTxt: string;
  /** Partition numbers of the slots. */
  readonly partitions: Readonly<Record<SlotName, number>>;
  /** Where the firmware's `chosen/bootloader` node is (`/proc/device-tree/chosen/bootloader`). */
  readonly bootloaderDir: string;
  /** Where the armed trial is remembered (the state directory). */
  readonly stateFile: string;
}

type Sections = Map<string, Map<string, string>>;

export class TrybootBackend implements BootBackend {
  readonly kind = 'tryboot';
  readonly #o: TrybootOptions;
  readonly #bootInfo: BootSlotInfo;

  constructor(options: TrybootOptions, bootInfo: BootSlotInfo) {
    this.#o = options;
    this.#bootInfo = bootInfo;
    if (options.partitions.A === options.partitions.B) throw new TypeError('partitions A and B must differ');
  }

  async getPrimary(): Promise<SlotName | undefined> {
    const armed = await this.#armed();
    if (armed) return armed;
    return this.#slotOf(await this.#read(), 'all');
  }

  async setPrimary(slot: SlotName): Promise<void> {
    const sections = await this.#read();
    const committed = this.#slotOf(sections, 'all') ?? (await this.#provision(sections));
    if (committed === slot) {
      await unlinkDurable(this.#o.stateFile);
      return;
    }
    section(sections, 'tryboot').set('boot_partition', String(this.#o.partitions[slot]));
    section(sections, 'all').set('tryboot_a_b', '1');
    await this.#write(sections);
    const bootId = await this.#bootInfo.bootId();
    await writeDurable(this.#o.stateFile, `${JSON.stringify({ slot, bootId })}\n`);
  }

  async getState(slot: SlotName): Promise<SlotState> {
    return this.#slotOf(await this.#read(), 'all') === slot ? 'good' : 'bad';
  }

  async setState(slot: SlotName, state: SlotState): Promise<void> {
    const sections = await this.#read();
    const persistent = this.#slotOf(sections, 'all');
    if (state === 'bad') {
      if (persistent === slot) {
        throw new InstallError('EBOOT_ENV', 'boot-env', `cannot mark ${slot}, the [all] partition, bad`);
      }
      if ((await this.#armed()) === slot) await unlinkDurable(this.#o.stateFile);
      return;
    }
    if (persistent === slot) return;
    // Nothing committed yet and this slot runs without a trial: it is the one to provision as [all].
    if (persistent === undefined && (await this.getCurrent()) === slot && !(await this.#trybooted())) {
      await this.#provision(sections);
      return;
    }
    // Only a slot that is running by tryboot can be made permanent: the firmware proved it boots.
    if ((await this.getCurrent()) !== slot || !(await this.#trybooted())) {
      throw new InstallError('ESTATE', 'not-trial', `slot ${slot} was not booted by tryboot`);
    }
    section(sections, 'all').set('boot_partition', String(this.#o.partitions[slot]));
    section(sections, 'tryboot').set('boot_partition', String(this.#o.partitions[otherSlot(slot)]));
    await this.#write(sections);
    await unlinkDurable(this.#o.stateFile);
  }

  async getCurrent(): Promise<SlotName | undefined> {
    const partition = await this.#dtU32('partition');
    if (partition === this.#o.partitions.A) return 'A';
    if (partition === this.#o.partitions.B) return 'B';
    return undefined;
  }

  async rebootArgs(): Promise<readonly string[]> {
    return (await this.#armed()) ? ['0 tryboot'] : [];
  }

  async inspect(): Promise<Readonly<Record<string, string>>> {
    const out: Record<string, string> = {};
    for (const [name, keys] of await this.#read()) for (const [k, v] of keys) out[`${name}.${k}`] = v;
    const armed = await this.#armed();
    if (armed) out.armed = armed;
    return out;
  }

  /**
   * Writes `[all]` with `tryboot_a_b=1` and `boot_partition` of the booted slot (Raspberry Pi
   * documentation, "autoboot.txt"), keeping any other lines, and returns that slot.
   */
  async #provision(sections: Sections): Promise<SlotName> {
    const booted = await this.getCurrent();
    if (!booted) {
      throw new InstallError(
        'EBOOT_ENV',
        'boot-env',
        `${this.#o.autobootTxt} names no [all] boot_partition and the firmware does not say which partition booted`,
      );
    }
    const all = section(sections, 'all');
    all.set('tryboot_a_b', '1');
    all.set('boot_partition', String(this.#o.partitions[booted]));
    await this.#write(sections);
    return booted;
  }

  /** The slot armed for the next (tryboot) reboot; a reboot since arming consumed it. */
  async #armed(): Promise<SlotName | undefined> {
    const raw = await readIfExists(this.#o.stateFile);
    if (!raw) return undefined;
    try {
      const { slot, bootId } = JSON.parse(raw.toString('utf8')) as { slot: SlotName; bootId: string };
      return bootId === (await this.#bootInfo.bootId()) && (slot === 'A' || slot === 'B') ? slot : undefined;
    } catch {
      return undefined;
    }
  }

  async #trybooted(): Promise<boolean> {
    return (await this.#dtU32('tryboot')) === 1;
  }

  async #dtU32(name: string): Promise<number | undefined> {
    const raw = await readIfExists(path.join(this.#o.bootloaderDir, name));
    return raw && raw.length >= 4 ? raw.readUInt32BE(0) : undefined;
  }

  #slotOf(sections: Sections, name: string): SlotName | undefined {
    const n = Number(sections.get(name)?.get('boot_partition'));
    if (n === this.#o.partitions.A) return 'A';
    if (n === this.#o.partitions.B) return 'B';
    return undefined;
  }

  async #read(): Promise<Sections> {
    const text = await readFile(this.#o.autobootTxt, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    return parseAutoboot(text);
  }

  async #write(sections: Sections): Promise<void> {
    const text = formatAutoboot(sections);
    await writeDurable(this.#o.autobootTxt, text, { mode: 0o644 }); // read by the firmware
    if (formatAutoboot(await this.#read()) !== text) {
      throw new InstallError('EBOOT_READBACK', 'boot-env-readback', 'autoboot.txt did not read back');
    }
  }
}

function section(sections: Sections, name: string): Map<string, string> {
  let s = sections.get(name);
  if (!s) {
    s = new Map();
    sections.set(name, s);
  }
  return s;
}

/** `[section]` headers and `key=value` lines; lines before any header belong to `[all]`. */
function parseAutoboot(text: string): Sections {
  const sections: Sections = new Map();
  let current = 'all';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) section(sections, current).set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return sections;
}

function formatAutoboot(sections: Sections): string {
  const names = ['all', 'tryboot', ...[...sections.keys()].filter((n) => n !== 'all' && n !== 'tryboot')];
  return names
    .filter((n) => sections.has(n))
    .map((n) => `[${n}]\n${[...sections.get(n)!].map(([k, v]) => `${k}=${v}\n`).join('')}`)
    .join('');
}
