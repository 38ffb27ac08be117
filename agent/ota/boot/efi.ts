/**
 * UEFI backend for generic arm64/x86 gateways: two boot entries, one per slot (created once with
 * `efibootmgr -c`), chosen through `efibootmgr` as RAUC's efi bootchooser does (rauc
 * `src/bootchooser.c`, `efi-use-bootnext`):
 *  - the trial is `BootNext` (`efibootmgr -n XXXX`): the firmware deletes BootNext before it boots that
 *    entry (UEFI 2.10 §3.1.2), so a trial that does not come up falls back to BootOrder by itself —
 *    the attempt budget is one boot;
 *  - the commit is BootOrder (`-o`) with the confirmed slot moved first; good = listed in BootOrder
 *    (and active); primary = BootNext when it names a slot, else the first slot in BootOrder;
 *  - bad = taken out of BootOrder (and out of BootNext): RAUC removes rather than demotes, so a slot
 *    being written can never be reached through the order, not even after the other fails. Removing the
 *    last slot of BootOrder is refused (the firmware would have nothing of ours to boot);
 *  - set-primary of the slot already first in BootOrder is no trial: it deletes a pending BootNext
 *    (`-N`) instead, which is also how an armed trial is cancelled;
 *  - get-current = BootCurrent.
 * Entries are named by label (resolved from the listing, so renumbering by firmware is harmless) or by
 * four-digit boot number. Every write is read back with a fresh `efibootmgr`.
 */
import { InstallError } from '../install-errors.js';
import { type RunCommand, runCommand } from '../run-command.js';
import { runBootTool, toolOutputError } from './boot-tool.js';
import { type EfiBootState, isBootNumber, parseEfibootmgr } from './efibootmgr-output.js';
import { type BootBackend, SLOT_NAMES, type SlotName, type SlotState } from './types.js';

export interface EfiOptions {
  /** The efibootmgr program (a path or a name on PATH). */
  readonly efibootmgr: string;
  /** Each slot's boot entry: its label (`rootfs A`) or its boot number (`0001`). */
  readonly entries: Readonly<Record<SlotName, string>>;
}

type Nums = Readonly<Record<SlotName, string>>;

export class EfiBackend implements BootBackend {
  readonly kind = 'efi';
  readonly #o: EfiOptions;
  readonly #run: RunCommand;

  constructor(options: EfiOptions, run: RunCommand = runCommand) {
    if (options.entries.A === options.entries.B) throw new TypeError('entries A and B must differ');
    this.#o = options;
    this.#run = run;
  }

  async getPrimary(): Promise<SlotName | undefined> {
    const { state, nums } = await this.#read();
    const next = slotOf(nums, state.bootNext);
    return next ?? firstSlotInOrder(state, nums);
  }

  async setPrimary(slot: SlotName): Promise<void> {
    const { state, nums } = await this.#read();
    if (firstSlotInOrder(state, nums) === slot) {
      if (state.bootNext === undefined) return;
      await this.#exec('-N');
      const back = await this.#read();
      if (back.state.bootNext !== undefined) throw readback(`BootNext is still ${back.state.bootNext}`);
      return;
    }
    await this.#exec('-n', nums[slot]);
    const back = await this.#read();
    if (back.state.bootNext !== nums[slot]) {
      throw readback(
        `BootNext reads ${back.state.bootNext ?? 'unset'}, expected ${nums[slot]} (slot ${slot})`,
      );
    }
  }

  async getState(slot: SlotName): Promise<SlotState> {
    const { state, nums } = await this.#read();
    const entry = state.entries.find((e) => e.num === nums[slot]);
    return entry?.active && state.bootOrder.includes(nums[slot]) ? 'good' : 'bad';
  }

  async setState(slot: SlotName, wanted: SlotState): Promise<void> {
    const { state, nums } = await this.#read();
    const num = nums[slot];
    const rest = state.bootOrder.filter((n) => n !== num);
    if (wanted === 'good') {
      await this.#setOrder(state.bootOrder, [num, ...rest]);
      return;
    }
    if (state.bootOrder.includes(num) && !rest.some((n) => slotOf(nums, n))) {
      throw new InstallError(
        'EBOOT_ENV',
        'boot-env',
        `cannot mark ${slot} bad: Boot${num} is the only slot in BootOrder (${state.bootOrder.join(',')})`,
      );
    }
    if (state.bootNext === num) {
      await this.#exec('-N');
      const back = await this.#read();
      if (back.state.bootNext !== undefined) throw readback(`BootNext is still ${back.state.bootNext}`);
    }
    await this.#setOrder(state.bootOrder, rest);
  }

  async getCurrent(): Promise<SlotName | undefined> {
    const { state, nums } = await this.#read();
    return slotOf(nums, state.bootCurrent);
  }

  async rebootArgs(): Promise<readonly string[]> {
    return [];
  }

  async inspect(): Promise<Readonly<Record<string, string>>> {
    const { state, nums } = await this.#read();
    const out: Record<string, string> = { BootOrder: state.bootOrder.join(',') };
    if (state.bootCurrent) out.BootCurrent = state.bootCurrent;
    if (state.bootNext) out.BootNext = state.bootNext;
    for (const s of SLOT_NAMES) {
      const e = state.entries.find((x) => x.num === nums[s]);
      out[s] = `Boot${nums[s]}${e?.active ? '*' : ' '} ${e?.label ?? ''}`;
    }
    return out;
  }

  /** Writes BootOrder `next` (never empty: see setState) unless it already is `current`; reads it back. */
  async #setOrder(current: readonly string[], next: readonly string[]): Promise<void> {
    if (current.join(',') === next.join(',')) return;
    await this.#exec('-o', next.join(','));
    const back = await this.#read();
    if (back.state.bootOrder.join(',') !== next.join(',')) {
      throw readback(
        `BootOrder reads ${back.state.bootOrder.join(',') || 'empty'}, expected ${next.join(',')}`,
      );
    }
  }

  async #exec(...args: string[]): Promise<void> {
    await runBootTool(this.#run, [this.#o.efibootmgr, ...args]);
  }

  async #read(): Promise<{ state: EfiBootState; nums: Nums }> {
    const argv = [this.#o.efibootmgr];
    const stdout = await runBootTool(this.#run, argv);
    const parsed = parseEfibootmgr(stdout);
    if (!parsed.ok) throw toolOutputError(argv, parsed.reason, stdout);
    const state = parsed.value;
    return { state, nums: { A: this.#resolve(state, 'A'), B: this.#resolve(state, 'B') } };
  }

  /** The boot number of `slot`'s configured entry: by number if it is one, else by its unique label. */
  #resolve(state: EfiBootState, slot: SlotName): string {
    const want = this.#o.entries[slot];
    const found = isBootNumber(want)
      ? state.entries.filter((e) => e.num === want.toUpperCase())
      : state.entries.filter((e) => e.label === want);
    if (found.length === 1) return found[0]!.num;
    const what = isBootNumber(want) ? `Boot${want.toUpperCase()}` : `labelled ${JSON.stringify(want)}`;
    throw new InstallError(
      'EBOOT_ENV',
      'boot-env',
      found.length === 0
        ? `no boot entry ${what} for slot ${slot} (create it once with efibootmgr -c; see README "Updates")`
        : `${found.length} boot entries are ${what} (slot ${slot}): give its boot number instead`,
    );
  }
}

function slotOf(nums: Nums, num: string | undefined): SlotName | undefined {
  return SLOT_NAMES.find((s) => num !== undefined && nums[s] === num);
}

function firstSlotInOrder(state: EfiBootState, nums: Nums): SlotName | undefined {
  for (const n of state.bootOrder) {
    const slot = slotOf(nums, n);
    if (slot) return slot;
  }
  return undefined;
}

function readback(message: string): InstallError {
  return new InstallError('EBOOT_READBACK', 'boot-env-readback', `efibootmgr did not read back: ${message}`);
}
