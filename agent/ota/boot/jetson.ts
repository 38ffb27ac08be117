/**
 * NVIDIA Jetson backend (L4T r35+/JetPack 5–6, flashed with rootfs A/B: `ROOTFS_AB=1`): the UEFI
 * firmware (L4TLauncher) chooses the rootfs slot and `nvbootctrl -t rootfs` (package nvidia-l4t-tools)
 * drives it. Slot 0 is A (APP), slot 1 is B (APP_b).
 *
 * The firmware's retry counter is the attempt budget: each boot of a slot spends one of its
 * `RootfsRetryCountMax` (3 unless the board was flashed with another ROOTFS_RETRY_COUNT_MAX); a slot
 * whose count runs out is marked `unbootable` and the firmware boots the other. Confirming the running
 * slot restores its count. So:
 *  - get-current = `get-current-slot`; get-primary = the `Active rootfs slot` of `dump-slots-info` while
 *    it is bootable (status normal, retries left), else the other one if that is;
 *  - set-primary = `set-active-boot-slot N`, read back as active with status normal (a firmware that
 *    keeps an unbootable status through it is reported, not retried);
 *  - set-state good of the running slot = the confirm command (`mark-boot-successful`, or `verify`,
 *    which NVIDIA's own nv-l4t-bootloader-config.service runs on r35.2+), read back as a full count;
 *  - set-state bad: nvbootctrl on r35+ has no command that marks a rootfs slot unbootable, so the slot
 *    is made inactive (`set-active-boot-slot` of the other, refused when the other is not bootable) and
 *    remembered in `stateFile` — getState reports it bad until it is set primary or confirmed again.
 *    The firmware itself does not know that mark: if the active slot runs out of retries while the
 *    other is half-written, it will try the other (the README says so).
 */
import path from 'node:path';
import { ensurePrivateDir, readIfExists, writeDurable } from '../../core/durable-file.js';
import { InstallError } from '../install-errors.js';
import { type RunCommand, runCommand } from '../run-command.js';
import { runBootTool, toolOutputError } from './boot-tool.js';
import {
  NVBOOTCTRL_SLOT_NUMBERS,
  parseCurrentSlot,
  parseRootfsSlotsInfo,
  type RootfsSlotsInfo,
} from './nvbootctrl-output.js';
import {
  type BootBackend,
  isSlotName,
  otherSlot,
  SLOT_NAMES,
  type SlotName,
  type SlotState,
} from './types.js';

export interface JetsonOptions {
  /** The nvbootctrl program (a path or a name on PATH). */
  readonly nvbootctrl: string;
  /** The firmware's RootfsRetryCountMax: a confirmed slot reads back with this many retries. */
  readonly retryCountMax: number;
  /** The command that confirms the running slot. */
  readonly confirm: 'mark-boot-successful' | 'verify';
  /** Where the slots the agent marked bad are remembered (the state directory). */
  readonly stateFile: string;
}

export class JetsonBackend implements BootBackend {
  readonly kind = 'jetson';
  readonly #o: JetsonOptions;
  readonly #run: RunCommand;

  constructor(options: JetsonOptions, run: RunCommand = runCommand) {
    if (!Number.isInteger(options.retryCountMax) || options.retryCountMax < 1 || options.retryCountMax > 3) {
      throw new TypeError(`retryCountMax must be an integer in 1..3, got ${options.retryCountMax}`);
    }
    this.#o = options;
    this.#run = run;
  }

  async getPrimary(): Promise<SlotName | undefined> {
    const info = await this.#dump();
    const bootable = (s: SlotName) => info.slots[s].status === 'normal' && info.slots[s].retryCount > 0;
    return [info.active, otherSlot(info.active)].find(bootable);
  }

  async setPrimary(slot: SlotName): Promise<void> {
    await this.#setActive(slot);
    await this.#unmark(slot);
  }

  async getState(slot: SlotName): Promise<SlotState> {
    const info = await this.#dump();
    if (info.slots[slot].status !== 'normal') return 'bad';
    return (await this.#marked()).includes(slot) ? 'bad' : 'good';
  }

  async setState(slot: SlotName, state: SlotState): Promise<void> {
    return state === 'good' ? this.#markGood(slot) : this.#markBad(slot);
  }

  async getCurrent(): Promise<SlotName | undefined> {
    const argv = this.#argv('get-current-slot');
    const parsed = parseCurrentSlot(await runBootTool(this.#run, argv));
    if (!parsed.ok) throw toolOutputError(argv, parsed.reason, '');
    return parsed.value;
  }

  async rebootArgs(): Promise<readonly string[]> {
    return [];
  }

  async inspect(): Promise<Readonly<Record<string, string>>> {
    const info = await this.#dump();
    const out: Record<string, string> = { current: info.current, active: info.active };
    for (const s of SLOT_NAMES) {
      out[`${s}.status`] = info.slots[s].status;
      out[`${s}.retry_count`] = String(info.slots[s].retryCount);
    }
    const marked = await this.#marked();
    if (marked.length > 0) out.markedBad = marked.join(' ');
    return out;
  }

  async #markGood(slot: SlotName): Promise<void> {
    const info = await this.#dump();
    if (info.current !== slot) {
      // Only the running slot can be confirmed; another one is good if the firmware still boots it.
      if (info.slots[slot].status !== 'normal') {
        throw new InstallError('ESTATE', 'not-running', `slot ${slot} is unbootable and not running`);
      }
      await this.#unmark(slot);
      return;
    }
    await runBootTool(this.#run, this.#argv(this.#o.confirm));
    const back = (await this.#dump()).slots[slot];
    if (back.status !== 'normal' || back.retryCount !== this.#o.retryCountMax) {
      throw new InstallError(
        'EBOOT_READBACK',
        'boot-env-readback',
        `nvbootctrl ${this.#o.confirm} did not confirm slot ${slot}: it reads back ${back.status} with ` +
          `retry_count ${back.retryCount}, expected normal with ${this.#o.retryCountMax} (retryCountMax)`,
      );
    }
    await this.#unmark(slot);
  }

  async #markBad(slot: SlotName): Promise<void> {
    const info = await this.#dump();
    const other = otherSlot(slot);
    const marked = await this.#marked();
    if (info.active === slot) {
      if (info.slots[other].status !== 'normal' || marked.includes(other)) {
        throw new InstallError(
          'EBOOT_ENV',
          'boot-env',
          `cannot mark ${slot}, the active slot, bad: slot ${other} is not bootable either`,
        );
      }
    }
    if (!marked.includes(slot)) await this.#saveMarked([...marked, slot]);
    if (info.active === slot) await this.#setActive(other);
  }

  async #setActive(slot: SlotName): Promise<void> {
    await runBootTool(this.#run, this.#argv('set-active-boot-slot', String(NVBOOTCTRL_SLOT_NUMBERS[slot])));
    const back = await this.#dump();
    if (back.active !== slot || back.slots[slot].status !== 'normal') {
      throw new InstallError(
        'EBOOT_READBACK',
        'boot-env-readback',
        `nvbootctrl set-active-boot-slot ${NVBOOTCTRL_SLOT_NUMBERS[slot]} did not read back: active slot ` +
          `${back.active}, slot ${slot} ${back.slots[slot].status}` +
          (back.slots[slot].status === 'unbootable'
            ? ' (the firmware keeps the unbootable status; clear it in the UEFI menu, L4T Configuration)'
            : ''),
      );
    }
  }

  async #dump(): Promise<RootfsSlotsInfo> {
    const argv = this.#argv('dump-slots-info');
    const stdout = await runBootTool(this.#run, argv);
    const parsed = parseRootfsSlotsInfo(stdout);
    if (!parsed.ok) throw toolOutputError(argv, parsed.reason, stdout);
    return parsed.value;
  }

  #argv(...command: string[]): string[] {
    return [this.#o.nvbootctrl, '-t', 'rootfs', ...command];
  }

  async #marked(): Promise<SlotName[]> {
    const raw = await readIfExists(this.#o.stateFile);
    if (!raw) return [];
    let bad: unknown;
    try {
      ({ bad } = JSON.parse(raw.toString('utf8')) as { bad?: unknown });
    } catch {
      bad = undefined;
    }
    // Written whole (writeDurable): anything else is not ours, and guessing could boot a half-written slot.
    if (!Array.isArray(bad) || !bad.every(isSlotName)) {
      throw new InstallError(
        'EBOOT_ENV',
        'boot-env',
        `${this.#o.stateFile}: expected {"bad": ["A" | "B", …]}`,
      );
    }
    return bad;
  }

  async #unmark(slot: SlotName): Promise<void> {
    const marked = await this.#marked();
    if (marked.includes(slot)) await this.#saveMarked(marked.filter((s) => s !== slot));
  }

  async #saveMarked(slots: readonly SlotName[]): Promise<void> {
    await ensurePrivateDir(path.dirname(this.#o.stateFile));
    await writeDurable(this.#o.stateFile, `${JSON.stringify({ bad: slots })}\n`);
  }
}
