/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * the delay before attempt n is uniform in [0, min(maxMs, baseMs·2^n)], so a fleet of gateways that
 * lost the same broker does not reconnect in lockstep.
 */
import type { Clock } from './clock.js';

export interface BackoffOptions {
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** 0 = no jitter (deterministic), 1 = full jitter. */
  readonly jitter?: number;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
}

export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#baseMs = options.baseMs ?? 500;
    this.#maxMs = options.maxMs ?? 60_000;
    this.#jitter = options.jitter ?? 1;
    this.#random = options.random ?? Math.random;
    if (!(this.#baseMs > 0)) throw new TypeError(`baseMs must be > 0, got ${this.#baseMs}`);
    if (this.#maxMs < this.#baseMs) throw new TypeError('maxMs must be >= baseMs');
    if (this.#jitter < 0 || this.#jitter > 1) throw new TypeError('jitter must be in [0, 1]');
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; advances the attempt counter. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return ceiling * (1 - this.#jitter * this.#random());
  }

  reset(): void {
    this.#attempt = 0;
  }
}

export interface WithBackoffOptions extends BackoffOptions {
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** Give up after this many attempts (default: never). */
  readonly maxAttempts?: number;
  /** Return false to stop retrying (e.g. a permanent error). */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it resolves, sleeping a backoff delay between failures. Rejects when aborted. */
export async function withBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  options: WithBackoffOptions,
): Promise<T> {
  const backoff = new Backoff(options);
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      const last = options.maxAttempts !== undefined && attempt + 1 >= options.maxAttempts;
      if (last || options.signal?.aborted || options.shouldRetry?.(error, attempt) === false) throw error;
      const delayMs = backoff.next();
      options.onRetry?.(error, attempt, delayMs);
      await options.clock.sleep(delayMs, options.signal);
    }
  }
}
