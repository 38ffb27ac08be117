/**
 * Keys typed ahead, and one reader waiting for the next: what lets the session be written as plain
 * sequential code (`await nextKey()`) while bytes arrive whenever the peer sends them. A waiter is
 * released by an aborted signal with the signal's reason, so idle logout and shutdown unwind any read.
 * Keys typed ahead are bounded in number and in characters (a key may be a whole pasted chunk), so a
 * peer flooding while the session is busy — a password being checked — costs bounded memory.
 */
import type { Clock } from '../core/clock.js';
import type { Key } from './keys.js';

/** Keys, and characters in them, kept while nobody reads; more is dropped. */
const MAX_QUEUED_KEYS = 4096;
const MAX_QUEUED_CHARS = 64 * 1024;

export class KeyQueue {
  readonly #keys: Key[] = [];
  #queuedChars = 0;
  #waiter: ((key: Key) => void) | undefined;
  #ended = false;

  /** Whether a reader is waiting for a key (the session is idle at a prompt or in a watch). */
  get waiting(): boolean {
    return this.#waiter !== undefined;
  }

  push(key: Key): void {
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter(key);
    } else {
      // A flood (a pasted file) must not grow without bound; this is far beyond any typing.
      // A pasted chunk too big for what is left keeps its start, so the line editor still sees (and
      // counts against its limits) a flood that arrived while the session was busy.
      const room = MAX_QUEUED_CHARS - this.#queuedChars;
      if (this.#keys.length >= MAX_QUEUED_KEYS || room <= 0) return;
      const kept =
        key.name === 'char' && key.text.length > room ? { ...key, text: key.text.slice(0, room) } : key;
      this.#keys.push(kept);
      this.#queuedChars += kept.name === 'char' ? kept.text.length : 1;
    }
  }

  /** The peer will send nothing more: once the queue is empty every read gets `eof` (Ctrl-D). */
  end(): void {
    this.#ended = true;
    if (this.#keys.length === 0 && this.#waiter) this.push({ name: 'eof' });
  }

  /** Drops keys typed ahead (during a login pause, so guesses cannot be queued up). */
  clear(): void {
    this.#keys.length = 0;
    this.#queuedChars = 0;
  }

  next(signal: AbortSignal): Promise<Key> {
    const queued = this.#keys.shift();
    if (queued) {
      this.#queuedChars -= queued.name === 'char' ? queued.text.length : 1;
      return Promise.resolve(queued);
    }
    if (this.#ended) return Promise.resolve({ name: 'eof' });
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiter = undefined;
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiter = (key) => {
        signal.removeEventListener('abort', onAbort);
        resolve(key);
      };
    });
  }

  /** The next key, or undefined after `timeoutMs` without one. */
  async nextWithin(clock: Clock, timeoutMs: number, signal: AbortSignal): Promise<Key | undefined> {
    const timeout = new AbortController();
    const timer = clock.setTimeout(() => timeout.abort(TIMED_OUT), timeoutMs);
    try {
      return await this.next(AbortSignal.any([signal, timeout.signal]));
    } catch (error) {
      if (error === TIMED_OUT && !signal.aborted) return undefined;
      throw error;
    } finally {
      timer.cancel();
    }
  }
}

const TIMED_OUT = Symbol('timed out');
