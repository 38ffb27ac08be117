/**
 * Trailing debounce of an input line, on an injected clock — the same code behind the Linux backend
 * (fed by sysfs interrupts) and the simulator (fed by `drive()`), so the behaviour the simulator shows
 * in tests is the behaviour on a Pi. Each raw transition restarts a `debounceMs` timer; when it expires
 * the line is sampled, and if the level differs from the last settled one it becomes the new settled
 * level and, if it matches the edge filter, is reported with the time of the last raw transition.
 * Sampling rather than trusting the last interrupt's value matters on sysfs: the value read in the
 * handler can be stale when bounces are faster than the handler.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { GpioEdge, GpioEdgeEvent, GpioLevel } from './types.js';

export function matchesEdge(edge: GpioEdge, value: GpioLevel): boolean {
  return edge === 'both' || (edge === 'rising' && value === 1) || (edge === 'falling' && value === 0);
}

export interface DebouncerOptions {
  readonly clock: Clock;
  readonly debounceMs: number;
  readonly edge: GpioEdge;
  /** The (logical) level when watching starts. */
  readonly initial: GpioLevel;
  /** Reads the (logical) level now. */
  readonly sample: () => GpioLevel;
  readonly emit: (event: GpioEdgeEvent) => void;
  readonly onError: (error: Error) => void;
}

export class Debouncer {
  readonly #o: DebouncerOptions;
  #settled: GpioLevel;
  #lastChangeMs = 0;
  #timer: TimerHandle | undefined;

  constructor(options: DebouncerOptions) {
    if (!(options.debounceMs > 0)) throw new TypeError(`debounceMs must be > 0, got ${options.debounceMs}`);
    this.#o = options;
    this.#settled = options.initial;
  }

  /** A raw transition of the line, seen at `monoMs`. */
  change(monoMs: number): void {
    this.#lastChangeMs = monoMs;
    this.#timer?.cancel();
    this.#timer = this.#o.clock.setTimeout(() => this.#settle(), this.#o.debounceMs);
  }

  /** Drops a pending settle (the line is closing). */
  cancel(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #settle(): void {
    this.#timer = undefined;
    let value: GpioLevel;
    try {
      value = this.#o.sample();
    } catch (error) {
      this.#o.onError(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (value === this.#settled) return;
    this.#settled = value;
    if (matchesEdge(this.#o.edge, value)) this.#o.emit({ value, monoMs: this.#lastChangeMs });
  }
}
