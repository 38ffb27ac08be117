/**
 * What `ota.status` shows: per component, the slots with their boot state, kind and path, the slot
 * running and the one the bootloader tries next, what was last committed, and the boot backend's raw
 * variables (or why they cannot be read) — each read separately so one failing verb does not hide
 * the rest.
 */
import { errorMessage } from '../core/errors.js';
import type { SlotName, SlotState } from './boot/types.js';
import type { CommittedState } from './committed-state.js';
import type { OtaComponent, OtaProgress } from './installer.js';
import type { InstallRecord } from './plan-install.js';

export interface ComponentStatus {
  readonly name: string;
  readonly booted: SlotName | undefined;
  readonly primary: SlotName | undefined;
  readonly slots: Readonly<Record<SlotName, { state: SlotState | 'unknown'; kind: string; path: string }>>;
  readonly committed: { seq: number; version: string; slot: SlotName } | undefined;
  readonly boot:
    | { backend: string; vars: Readonly<Record<string, string>> }
    | { backend: string; error: string };
}

export interface OtaStatus {
  readonly busy: boolean;
  readonly rebootPending: boolean;
  /** The journal record of the install in progress (its `offsetBytes` is what is durable). */
  readonly install: InstallRecord | undefined;
  /** The latest progress of that install (bytes written and read back, durable or not yet). */
  readonly progress: OtaProgress | undefined;
  readonly components: readonly ComponentStatus[];
  readonly pendingReports: number;
  readonly lastError: string | undefined;
}

export async function componentStatus(c: OtaComponent, committed: CommittedState): Promise<ComponentStatus> {
  const safe = <T>(fn: () => Promise<T>): Promise<T | undefined> => fn().catch(() => undefined);
  const slotInfo = async (s: SlotName) => ({
    state: (await safe(() => c.boot.getState(s))) ?? ('unknown' as const),
    kind: c.slots[s].kind,
    path: c.slots[s].path,
  });
  let boot: ComponentStatus['boot'];
  try {
    boot = { backend: c.boot.kind, vars: await c.boot.inspect() };
  } catch (e) {
    boot = { backend: c.boot.kind, error: errorMessage(e) };
  }
  const entry = committed.components[c.name];
  return {
    name: c.name,
    booted: await safe(() => c.boot.getCurrent()),
    primary: await safe(() => c.boot.getPrimary()),
    slots: { A: await slotInfo('A'), B: await slotInfo('B') },
    committed: entry && { seq: entry.seq, version: entry.version, slot: entry.slot },
    boot,
  };
}
