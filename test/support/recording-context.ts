/**
 * A `DeviceContext` that records what a driver reported — publishes, failures, losses — so a driver
 * test can assert on them without a supervisor or a point table in between.
 */
import type { Clock } from '../../agent/core/clock.js';
import { type Logger, silentLogger } from '../../agent/core/log.js';
import type { PointValue } from '../../agent/core/points.js';
import type { DeviceContext } from '../../agent/hal/device.js';

export interface Published {
  readonly channel: string;
  readonly value: PointValue;
  readonly monoMs: number;
}

export class RecordingContext implements DeviceContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly published: Published[] = [];
  readonly failures: Error[] = [];
  readonly losses: Error[] = [];
  readonly #abort = new AbortController();

  constructor(clock: Clock, log: Logger = silentLogger()) {
    this.clock = clock;
    this.log = log;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  publish(channel: string, value: PointValue): void {
    this.published.push({ channel, value, monoMs: this.clock.monotonicMs() });
  }

  fail(error: Error): void {
    this.failures.push(error);
  }

  lost(error: Error): void {
    this.losses.push(error);
  }

  abort(reason: unknown = new Error('closing')): void {
    this.#abort.abort(reason);
  }

  /** The values published on `channel`, in order. */
  values(channel: string): PointValue[] {
    return this.published.filter((p) => p.channel === channel).map((p) => p.value);
  }

  /** The last value published on `channel`. */
  last(channel: string): PointValue | undefined {
    return this.values(channel).at(-1);
  }
}
