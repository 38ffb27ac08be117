/**
 * The watchers of one input handle, shared by both backends. A watcher that throws must not stop the
 * others or the event source; its error is rethrown on a microtask so that it is still loud (an
 * uncaught exception) rather than swallowed — the same policy as the point table's listeners.
 */
import type { GpioEdgeEvent, GpioEdgeListener } from './types.js';

interface Watcher {
  readonly onEdge: GpioEdgeListener;
  readonly onError: ((error: Error) => void) | undefined;
}

export class EdgeListeners {
  #watchers: Watcher[] = [];

  get size(): number {
    return this.#watchers.length;
  }

  add(onEdge: GpioEdgeListener, onError?: (error: Error) => void): () => void {
    if (typeof onEdge !== 'function') throw new TypeError('listener must be a function');
    if (onError !== undefined && typeof onError !== 'function')
      throw new TypeError('onError must be a function');
    const watcher: Watcher = { onEdge, onError };
    this.#watchers = [...this.#watchers, watcher];
    return () => {
      this.#watchers = this.#watchers.filter((w) => w !== watcher);
    };
  }

  emit(event: GpioEdgeEvent): void {
    // Over a snapshot, skipping watchers removed meanwhile: one may close the line from its callback.
    for (const w of this.#watchers) if (this.#watchers.includes(w)) callSafely(() => w.onEdge(event));
  }

  error(error: Error): void {
    for (const w of this.#watchers)
      if (w.onError && this.#watchers.includes(w)) callSafely(() => w.onError?.(error));
  }

  clear(): void {
    this.#watchers = [];
  }
}

/** Calls `fn`; if it throws, rethrows on a microtask instead of unwinding into the caller. */
export function callSafely(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
