/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * the delay before attempt n is uniform in [0, min(maxMs, baseMs·2^n)], so a fleet of gateways that
 * lost the same broker does not reconnect in lockstep.
 */

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
