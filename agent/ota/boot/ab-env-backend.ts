/**
 * The A/B backend over any key/value store holding RAUC's variables (`BOOT_ORDER` /
 * `BOOT_<slot>_LEFT`, boot-order.ts): the U-Boot environment through `fw_printenv`/`fw_setenv` or
 * natively (uboot-env-store.ts), or a plain file (file.ts). Every write is read back and compared; the
 * booted slot comes from `rauc.slot=` on the kernel command line, which boards/uboot-ab.script appends.
 */
import { InstallError } from '../install-errors.js';
import {
  type BootVarChanges,
  DEFAULT_ATTEMPTS,
  effectiveChanges,
  mismatches,
  primarySlot,
  setPrimaryChanges,
  setStateChanges,
  slotState,
} from './boot-order.js';
import type { BootSlotInfo } from './boot-slot-info.js';
import type { BootBackend, SlotName, SlotState } from './types.js';
import type { UbootEnvStore } from './uboot-env-store.js';

export interface AbEnvBackendOptions {
  /** Boot attempts a trial and a confirmed slot get (RAUC's boot-attempts). */
  readonly attempts?: number;
  /** Kernel command-line parameter naming the booted slot. */
  readonly cmdlineParam?: string;
}

/** A/B backend over any key/value store that holds RAUC's variables (the U-Boot env, a file). */
export class AbEnvBackend implements BootBackend {
  readonly kind: string;
  readonly #store: UbootEnvStore;
  readonly #bootInfo: BootSlotInfo;
  readonly #attempts: number;
  readonly #param: string;

  constructor(kind: string, store: UbootEnvStore, bootInfo: BootSlotInfo, options: AbEnvBackendOptions = {}) {
    this.kind = kind;
    this.#store = store;
    this.#bootInfo = bootInfo;
    this.#attempts = options.attempts ?? DEFAULT_ATTEMPTS;
    this.#param = options.cmdlineParam ?? 'rauc.slot';
    if (!Number.isInteger(this.#attempts) || this.#attempts < 1 || this.#attempts > 15) {
      throw new TypeError(`attempts must be an integer in 1..15, got ${this.#attempts}`);
    }
  }

  async getPrimary(): Promise<SlotName | undefined> {
    return primarySlot(await this.#store.read());
  }

  async setPrimary(slot: SlotName): Promise<void> {
    await this.#update((vars) => setPrimaryChanges(vars, slot, this.#attempts));
  }

  async getState(slot: SlotName): Promise<SlotState> {
    return slotState(await this.#store.read(), slot);
  }

  async setState(slot: SlotName, state: SlotState): Promise<void> {
    await this.#update((vars) => setStateChanges(vars, slot, state, this.#attempts));
  }

  getCurrent(): Promise<SlotName | undefined> {
    return this.#bootInfo.bootedSlot(this.#param);
  }

  async rebootArgs(): Promise<readonly string[]> {
    return [];
  }

  async inspect(): Promise<Readonly<Record<string, string>>> {
    return Object.fromEntries(await this.#store.read());
  }

  async #update(change: (vars: ReadonlyMap<string, string>) => BootVarChanges): Promise<void> {
    const vars = await this.#store.read();
    const changes = effectiveChanges(vars, change(vars));
    if (Object.keys(changes).length === 0) return;
    await this.#store.write(changes);
    const wrong = mismatches(await this.#store.read(), changes);
    if (wrong.length > 0) {
      throw new InstallError(
        'EBOOT_READBACK',
        'boot-env-readback',
        `${this.kind} environment did not read back as written: ${wrong.join(', ')}`,
      );
    }
  }
}
