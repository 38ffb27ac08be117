/**
 * A token bucket on the injected clock: `ratePerS` tokens accrue per second up to `burst`. `take`
 * succeeds while the bucket is not empty and may leave it in debt (a batch is sent whole; the debt is
 * paid before the next one), so the long-run rate is exact without splitting batches.
 */
import type { Clock } from '../core/clock.js';

export class TokenBucket {
  readonly #clock: Clock;
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #atMs: number;

  constructor(clock: Clock, ratePerS: number, burst: number) {
    if (!(ratePerS > 0)) throw new TypeError(`ratePerS must be > 0, got ${ratePerS}`);
    if (!(burst > 0)) throw new TypeError(`burst must be > 0, got ${burst}`);
    this.#clock = clock;
    this.#ratePerMs = ratePerS / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#atMs = clock.monotonicMs();
  }

  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes `n` tokens if any are available (possibly going into debt); false if the bucket is empty. */
  take(n: number): boolean {
    this.#refill();
    if (this.#tokens <= 0) return false;
    this.#tokens -= n;
    return true;
  }

  /** Milliseconds until `take` can succeed again (0 if it can now). */
  msUntilAvailable(): number {
    this.#refill();
    return this.#tokens > 0 ? 0 : (-this.#tokens + 1e-9) / this.#ratePerMs;
  }

  #refill(): void {
    const now = this.#clock.monotonicMs();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#atMs) * this.#ratePerMs);
    this.#atMs = now;
  }
}
