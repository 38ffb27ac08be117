/**
 * Slots: where an update is written. A raw slot — an image file or a block device (partition) — takes
 * a `raw` payload byte for byte; a directory slot takes a `tar` payload (the agent's own bundle),
 * unpacked beside the slot and swapped in. This module knows how big a slot is and how much room its
 * filesystem has, so the manifest's `size` can be checked before a byte is written.
 */
import { realpath, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { readIfExists } from '../../core/durable-file.js';

export type SlotKind = 'image' | 'block' | 'dir';
export type PayloadFormat = 'raw' | 'tar';

export interface SlotSpec {
  readonly kind: SlotKind;
  readonly path: string;
  /** Fixed capacity of an image file slot (a partition's size comes from sysfs). */
  readonly sizeBytes?: number | undefined;
}

export function formatOf(kind: SlotKind): PayloadFormat {
  return kind === 'dir' ? 'tar' : 'raw';
}

/** Bytes the slot can hold: a block device's size, an image slot's configured size, else undefined. */
export async function capacityBytes(spec: SlotSpec, sysfs = '/sys'): Promise<number | undefined> {
  if (spec.kind === 'block') {
    const dev = path.basename(await realpath(spec.path));
    const sectors = await readIfExists(path.join(sysfs, 'class/block', dev, 'size'));
    return sectors ? Number(sectors.toString('utf8').trim()) * 512 : undefined;
  }
  return spec.kind === 'image' ? spec.sizeBytes : undefined;
}

/**
 * Room for the payload on the slot's filesystem: free space, plus what an image file slot already
 * occupies (it is overwritten). Undefined for block devices (capacity is what counts).
 */
export async function roomBytes(spec: SlotSpec): Promise<number | undefined> {
  if (spec.kind === 'block') return undefined;
  const dir = path.dirname(spec.path);
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (spec.kind === 'dir') return free;
  const existing = await stat(spec.path).then(
    (s) => s.size,
    () => 0,
  );
  return free + existing;
}
