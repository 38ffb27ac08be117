/**
 * The lines one real GPIO backend holds: claimed by `chip:offset` from the start of an open (so two
 * racing opens of one line fail with EBUSY rather than both succeed), and the open handles, which
 * the backend's `close` closes together.
 */
import { formatLine, GpioError } from './errors.js';
import type { GpioLine, GpioLineRef } from './types.js';

export class LineClaims {
  readonly #claimed = new Set<string>();
  readonly #open = new Set<GpioLine>();

  /** Runs `open` with the line claimed; the claim is dropped again if it fails. */
  async withClaim<T extends GpioLine>(ref: GpioLineRef, open: () => Promise<T>): Promise<T> {
    const key = formatLine(ref);
    if (this.#claimed.has(key)) throw new GpioError('EBUSY', `gpio ${key} is already open`, { line: ref });
    this.#claimed.add(key);
    try {
      const handle = await open();
      this.#open.add(handle);
      return handle;
    } catch (error) {
      this.#claimed.delete(key);
      throw error;
    }
  }

  /** A handle's `onClose`: the line may be opened again. */
  release(ref: GpioLineRef, handle: GpioLine): void {
    this.#claimed.delete(formatLine(ref));
    this.#open.delete(handle);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((h) => h.close()));
  }
}
