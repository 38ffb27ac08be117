/**
 * A minor-GC hint for streaming downloads. Node allocates a fresh 64 KiB buffer for every socket read;
 * V8 frees them only when a collection runs, and external memory may grow by up to 64 MB before it
 * forces one, so a fast download (a LAN, loopback) raises the RSS by tens of MB for garbage alone.
 * A scavenge every megabyte of download keeps the install's memory flat (well under 1 ms each).
 * `--expose-gc` is switched on at runtime (the composition root calls this once); undefined if the
 * flag cannot be set, in which case downloads simply run without the hint.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

export function minorGcHint(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as Gc | undefined;
    return typeof gc === 'function' ? () => gc({ type: 'minor' }) : undefined;
  } catch {
    return undefined;
  }
}
