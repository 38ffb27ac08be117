/**
 * The boot backend of a live component (a model or a rule set, `kind: model | rules`): nothing is
 * booted, the agent itself loads one of the two directory slots while it runs. The A/B variables
 * (primary, attempts, good/bad) are the file backend's; the slot in use is `LIVE_SLOT` in the same
 * file, written only after the component's consumer has switched to it and proved it
 * (`setCurrent`), so a restart loads what was last proven. A slot that never ran counts as `A`, the
 * slot a device is provisioned with.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { InstallError } from '../install-errors.js';
import { AbEnvBackend } from './ab-env-backend.js';
import type { BootVarChanges } from './boot-order.js';
import type { BootSlotInfo } from './boot-slot-info.js';
import { FileEnvStore } from './file.js';
import { type BootBackend, isSlotName, type SlotName, type SlotState } from './types.js';

const LIVE_SLOT = 'LIVE_SLOT';

/** The slot a live component runs until told otherwise. */
export const FIRST_LIVE_SLOT: SlotName = 'A';

/** The file backend's store, whose directory (the component's state) is made on first write. */
class LiveSlotStore extends FileEnvStore {
  readonly #dir: string;

  constructor(file: string) {
    super({ file });
    this.#dir = path.dirname(file);
  }

  override async write(changes: BootVarChanges): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    await super.write(changes);
  }
}

const noBootInfo: BootSlotInfo = {
  bootedSlot: async () => undefined,
  bootId: async () => '',
};

export class LiveSlotBackend implements BootBackend {
  readonly kind = 'live';
  readonly #store: LiveSlotStore;
  readonly #ab: AbEnvBackend;

  constructor(options: { file: string }) {
    this.#store = new LiveSlotStore(options.file);
    this.#ab = new AbEnvBackend('live', this.#store, noBootInfo);
  }

  getPrimary(): Promise<SlotName | undefined> {
    return this.#ab.getPrimary();
  }

  setPrimary(slot: SlotName): Promise<void> {
    return this.#ab.setPrimary(slot);
  }

  getState(slot: SlotName): Promise<SlotState> {
    return this.#ab.getState(slot);
  }

  setState(slot: SlotName, state: SlotState): Promise<void> {
    return this.#ab.setState(slot, state);
  }

  async getCurrent(): Promise<SlotName> {
    const value = (await this.#store.read()).get(LIVE_SLOT);
    return isSlotName(value) ? value : FIRST_LIVE_SLOT;
  }

  /** Records that the consumer now runs `slot` (after it proved itself there). */
  async setCurrent(slot: SlotName): Promise<void> {
    await this.#store.write({ [LIVE_SLOT]: slot });
    if ((await this.getCurrent()) !== slot) {
      throw new InstallError(
        'EBOOT_READBACK',
        'boot-env-readback',
        `${LIVE_SLOT} did not read back as ${slot}`,
      );
    }
  }

  async rebootArgs(): Promise<readonly string[]> {
    return [];
  }

  inspect(): Promise<Readonly<Record<string, string>>> {
    return this.#ab.inspect();
  }
}
