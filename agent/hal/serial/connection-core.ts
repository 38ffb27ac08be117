/**
 * The bookkeeping every `SerialConnection` shares, so the Linux port and the simulator close alike:
 * listener sets, the open/closed state, and the writes still pending when the connection closes (the
 * contract says they reject; serialport would leave a write queued behind a closed port pending
 * forever, so the connection settles it here instead of trusting the library's callback).
 */
import { SerialError } from './errors.js';
import type { SerialCloseListener, SerialDataListener } from './types.js';

export class ConnectionCore {
  readonly path: string;
  readonly #data = new Set<SerialDataListener>();
  readonly #close = new Set<SerialCloseListener>();
  readonly #pending = new Set<(error: SerialError) => void>();
  #open = true;

  constructor(path: string) {
    this.path = path;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  onData(listener: SerialDataListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.#data.add(listener);
    return () => this.#data.delete(listener);
  }

  onClose(listener: SerialCloseListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.#close.add(listener);
    return () => this.#close.delete(listener);
  }

  /** Delivers a received chunk to the listeners, unless the connection has closed. */
  emitData(chunk: Uint8Array): void {
    if (!this.#open) return;
    for (const listener of [...this.#data]) {
      try {
        listener(chunk);
      } catch (e) {
        rethrowLater(e);
      }
    }
  }

  /**
   * Runs one write: `start` hands the bytes to the port and calls `done` when they are written. The
   * returned promise settles once, by `done` or by the connection closing first.
   */
  write(start: (done: (error?: SerialError) => void) => void): Promise<void> {
    if (!this.#open) {
      return Promise.reject(new SerialError('ECLOSED', this.path, `${this.path}: write after close`));
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: SerialError) => {
        if (settled) return;
        settled = true;
        this.#pending.delete(settle);
        if (error) reject(error);
        else resolve();
      };
      this.#pending.add(settle);
      try {
        start(settle);
      } catch (e) {
        settle(new SerialError('EIO', this.path, `${this.path}: write failed: ${String(e)}`, { cause: e }));
      }
    });
  }

  /**
   * Marks the connection closed (once): pending writes reject, data listeners are dropped, close
   * listeners are called with `error` (undefined for a deliberate close). Returns false if it was
   * already closed.
   */
  finish(error: SerialError | undefined): boolean {
    if (!this.#open) return false;
    this.#open = false;
    const pendingError =
      error ?? new SerialError('ECLOSED', this.path, `${this.path}: port closed before the write completed`);
    for (const settle of [...this.#pending]) settle(pendingError);
    this.#data.clear();
    const listeners = [...this.#close];
    this.#close.clear();
    for (const listener of listeners) {
      try {
        listener(error);
      } catch (e) {
        rethrowLater(e);
      }
    }
    return true;
  }
}

/** A listener's bug must not stop the port or the other listeners; surface it as an uncaught error. */
function rethrowLater(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}
