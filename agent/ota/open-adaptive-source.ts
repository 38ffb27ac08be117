/**
 * Builds the adaptive source of an install (adaptive-source.ts) from what the device holds: the
 * running slot's chunk index — from the cache when the slot's committed content is known
 * (chunk-index.ts) — and the target slot's, hashed now. Undefined when the install cannot be
 * adaptive: a tar bundle, directory slots, or a manifest without chunk hashes.
 */
import path from 'node:path';
import { AdaptiveSource } from './adaptive-source.js';
import type { SlotName } from './boot/types.js';
import { cachedChunks, hashChunks } from './chunk-index.js';
import type { CommittedComponent } from './committed-state.js';
import type { HttpPayloadSource } from './download.js';
import type { Manifest } from './manifest.js';
import type { InstallRecord } from './plan-install.js';
import type { SlotSpec } from './slots/slot-device.js';

export interface AdaptiveInputs {
  readonly record: InstallRecord;
  readonly manifest: Manifest;
  readonly slots: Readonly<Record<SlotName, SlotSpec>>;
  /** What is committed for the component, if anything. */
  readonly committed: CommittedComponent | undefined;
  readonly remote: HttpPayloadSource;
  /** `<stateDir>/ota/chunk-index`. */
  readonly cacheDir: string;
  readonly signal: AbortSignal;
}

export async function openAdaptiveSource(
  i: AdaptiveInputs,
): Promise<{ source: AdaptiveSource; indexCached: boolean } | undefined> {
  const { record: r, manifest: m, slots } = i;
  if (r.format !== 'raw' || !m.chunk || !m.chunks || slots[r.from].kind === 'dir') return undefined;
  const chunkBytes = m.chunk;
  const running = i.committed?.slot === r.from ? i.committed : undefined;
  const from = await cachedChunks(
    i.cacheDir,
    `${r.component}-${r.from}`,
    running?.sha256 && running.sizeBytes ? `${running.sha256}/${chunkBytes}` : undefined,
    () => hashChunks(slots[r.from].path, chunkBytes, running?.sizeBytes ?? r.sizeBytes, i.signal),
  );
  const target = await hashChunks(slots[r.target].path, chunkBytes, r.sizeBytes, i.signal);
  const source = new AdaptiveSource({
    remote: i.remote,
    sizeBytes: r.sizeBytes,
    chunkBytes,
    chunks: m.chunks,
    local: [from.chunks, target],
    targetPath: slots[r.target].path,
  });
  return { source, indexCached: from.cached };
}

/** `<stateDir>/ota/chunk-index`, beside the staging directory. */
export function chunkIndexDir(stagingDir: string): string {
  return path.join(path.dirname(stagingDir), 'chunk-index');
}
