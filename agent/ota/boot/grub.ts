/**
 * GRUB backend with RAUC's variables (rauc `src/bootloaders/grub.c` and its grub.cfg example):
 * `ORDER` lists the slots to try, `<slot>_OK=1` marks a slot bootable, and grub.cfg sets
 * `<slot>_TRY=1` before booting one; a slot that boots and is confirmed gets `_TRY=0` again, one that
 * fails is skipped next time because its `_TRY` is still 1. Good = in `ORDER`, `_OK=1` and `_TRY=0`.
 * The grubenv file is replaced atomically and read back after every write; the booted slot comes from
 * `rauc.slot=` on the kernel command line.
 */
import { readIfExists, writeDurable } from '../../core/durable-file.js';
import { InstallError } from '../install-errors.js';
import type { BootSlotInfo } from './boot-slot-info.js';
import { encodeGrubenv, parseGrubenv } from './grubenv.js';
import { type BootBackend, SLOT_NAMES, type SlotName, type SlotState } from './types.js';

export class GrubBackend implements BootBackend {
  readonly kind = 'grub';
  readonly #file: string;
  readonly #bootInfo: BootSlotInfo;
  readonly #param: string;

  constructor(options: { grubenv: string; cmdlineParam?: string }, bootInfo: BootSlotInfo) {
    this.#file = options.grubenv;
    this.#bootInfo = bootInfo;
    this.#param = options.cmdlineParam ?? 'rauc.slot';
  }

  async getPrimary(): Promise<SlotName | undefined> {
    const vars = await this.#read();
    return order(vars).find((s) => isGood(vars, s));
  }

  async setPrimary(slot: SlotName): Promise<void> {
    await this.#update((vars) => {
      vars.set(`${slot}_OK`, '1');
      vars.set(`${slot}_TRY`, '0');
      vars.set('ORDER', [slot, ...SLOT_NAMES.filter((s) => s !== slot)].join(' '));
    });
  }

  async getState(slot: SlotName): Promise<SlotState> {
    return isGood(await this.#read(), slot) ? 'good' : 'bad';
  }

  async setState(slot: SlotName, state: SlotState): Promise<void> {
    await this.#update((vars) => {
      vars.set(`${slot}_OK`, state === 'good' ? '1' : '0');
      vars.set(`${slot}_TRY`, '0');
      if (!vars.get('ORDER')) vars.set('ORDER', SLOT_NAMES.join(' '));
    });
  }

  getCurrent(): Promise<SlotName | undefined> {
    return this.#bootInfo.bootedSlot(this.#param);
  }

  async rebootArgs(): Promise<readonly string[]> {
    return [];
  }

  async inspect(): Promise<Readonly<Record<string, string>>> {
    return Object.fromEntries(await this.#read());
  }

  async #read(): Promise<Map<string, string>> {
    return parseGrubenv((await readIfExists(this.#file)) ?? new Uint8Array(0));
  }

  async #update(change: (vars: Map<string, string>) => void): Promise<void> {
    const vars = await this.#read();
    change(vars);
    await writeDurable(this.#file, encodeGrubenv(vars), { mode: 0o644 }); // read by the bootloader
    const back = await this.#read();
    const wrong = [...vars].filter(([k, v]) => back.get(k) !== v).map(([k]) => k);
    if (wrong.length > 0) {
      throw new InstallError(
        'EBOOT_READBACK',
        'boot-env-readback',
        `grubenv did not read back as written: ${wrong.join(', ')}`,
      );
    }
  }
}

function order(vars: ReadonlyMap<string, string>): SlotName[] {
  return (vars.get('ORDER') ?? '').split(' ').filter((s): s is SlotName => s === 'A' || s === 'B');
}

function isGood(vars: ReadonlyMap<string, string>, slot: SlotName): boolean {
  return (
    order(vars).includes(slot) && vars.get(`${slot}_OK`) === '1' && (vars.get(`${slot}_TRY`) ?? '0') === '0'
  );
}
