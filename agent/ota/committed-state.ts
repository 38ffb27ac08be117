/**
 * What has been committed, per component: the manifest `seq` (anti-rollback: an offer must exceed
 * it), the version and slot, and the latest trusted time seen (a committed manifest's `created`),
 * which keeps expiry checks honest on a board that boots with its clock in 1970. One JSON file,
 * replaced atomically.
 */
import path from 'node:path';
import { ensurePrivateDir, readIfExists, writeDurable } from '../core/durable-file.js';
import type { SlotName } from './boot/types.js';

export interface CommittedComponent {
  readonly seq: number;
  readonly version: string;
  readonly slot: SlotName;
  /** Wall-clock time of the commit (POSIX ms). */
  readonly wallMs: number;
  /** The committed payload's length and SHA-256 (hex): what the slot holds, for adaptive updates. */
  readonly sizeBytes?: number | undefined;
  readonly sha256?: string | undefined;
}

export interface CommittedState {
  readonly v: 1;
  /** The latest time we had reason to trust (POSIX ms), never decreasing. */
  readonly trustedTimeMs: number;
  readonly components: Readonly<Record<string, CommittedComponent>>;
}

const EMPTY: CommittedState = { v: 1, trustedTimeMs: 0, components: {} };

export class CommittedStore {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  async load(): Promise<CommittedState> {
    const raw = await readIfExists(this.#file);
    if (!raw) return EMPTY;
    const parsed = JSON.parse(raw.toString('utf8')) as CommittedState;
    return parsed.v === 1 ? parsed : EMPTY;
  }

  async seqOf(component: string): Promise<number> {
    return (await this.load()).components[component]?.seq ?? 0;
  }

  async record(component: string, entry: CommittedComponent, trustedTimeMs: number): Promise<void> {
    const state = await this.load();
    const next: CommittedState = {
      v: 1,
      trustedTimeMs: Math.max(state.trustedTimeMs, trustedTimeMs),
      components: { ...state.components, [component]: entry },
    };
    await ensurePrivateDir(path.dirname(this.#file));
    await writeDurable(this.#file, `${JSON.stringify(next)}\n`);
  }
}
