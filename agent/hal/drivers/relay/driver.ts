/**
 * A relay (or contactor, SSR) on one GPIO output. Channel `state` is a writable boolean: `true` = on =
 * coil energised (logical 1; `activeLow` for the common low-triggered relay boards). The line becomes
 * an output already at the safe state, so opening never flicks the load on; `safeState()` returns it
 * there on stop and on fault. `minSwitchIntervalMs` protects contacts and compressors from chatter:
 * a change sooner than that after the previous one is refused (the caller retries), except the
 * change to the safe state, which is never delayed. `startState` may switch it on once open.
 */
import { z } from 'zod';
import { AgentError, errorMessage } from '../../../core/errors.js';
import type { PointValue } from '../../../core/points.js';
import type { Buses } from '../../buses.js';
import type { ChannelDecl, Device, DeviceContext } from '../../device.js';
import type { GpioBackend, GpioOutput } from '../../gpio/types.js';
import type { DriverFactory } from '../driver-factory.js';
import { gpioLineOption, openError } from '../gpio-options.js';

export const relayOptions = z.strictObject({
  line: gpioLineOption,
  /** The relay is on when the pin is low (most opto-isolated relay boards). */
  activeLow: z.boolean().default(false),
  /** The state on open, stop and fault. */
  safeState: z.enum(['off', 'on']).default('off'),
  /**
   * The state after a successful open. `safe` (default) leaves it in the safe state; `on` suits a load
   * that should run whenever the agent runs and stop when it stops or faults (a circulation fan).
   */
  startState: z.enum(['safe', 'on', 'off']).default('safe'),
  /** Minimum time between two changes of state (0: none). */
  minSwitchIntervalMs: z.number().int().min(0).max(3_600_000).default(0),
});

export type RelayOptions = z.infer<typeof relayOptions>;

/** A write refused by `minSwitchIntervalMs`; `retryAfterMs` says when it would be accepted. */
export class RelaySwitchTooSoonError extends AgentError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(
      'ESWITCH_TOO_SOON',
      `relay switched less than its minimum interval ago; retry in ${Math.ceil(retryAfterMs)} ms`,
    );
    this.retryAfterMs = retryAfterMs;
  }
}

export class Relay implements Device {
  readonly channels: readonly ChannelDecl[] = [{ channel: 'state', writable: true }];
  readonly #gpio: GpioBackend;
  readonly #options: RelayOptions;
  #ctx: DeviceContext | undefined;
  #line: GpioOutput | undefined;
  #state: boolean | undefined;
  #lastChangeMs = Number.NEGATIVE_INFINITY;

  constructor(options: RelayOptions, gpio: GpioBackend) {
    this.#options = options;
    this.#gpio = gpio;
  }

  async open(ctx: DeviceContext): Promise<void> {
    this.#ctx = ctx;
    const safe = this.#safe();
    try {
      this.#line = await this.#gpio.openOutput(this.#options.line, {
        initial: safe ? 1 : 0,
        activeLow: this.#options.activeLow,
      });
    } catch (error) {
      throw openError(error);
    }
    this.#state = safe;
    const start = this.#options.startState === 'safe' ? safe : this.#options.startState === 'on';
    if (start !== safe) {
      await this.#line.write(start ? 1 : 0);
      this.#changed(start);
    }
    ctx.publish('state', start);
  }

  async write(channel: string, value: PointValue): Promise<void> {
    if (channel !== 'state') throw new TypeError(`relay has no writable channel ${JSON.stringify(channel)}`);
    if (typeof value !== 'boolean')
      throw new TypeError(`value must be a boolean (true = on), got ${String(value)}`);
    const line = this.#line;
    if (!line) throw new Error('relay is not open');
    const minMs = this.#options.minSwitchIntervalMs;
    if (value !== this.#state && minMs > 0 && this.#ctx) {
      const sinceMs = this.#ctx.clock.monotonicMs() - this.#lastChangeMs;
      if (sinceMs < minMs) throw new RelaySwitchTooSoonError(minMs - sinceMs);
    }
    await line.write(value ? 1 : 0);
    this.#changed(value);
  }

  async safeState(): Promise<void> {
    const line = this.#line;
    if (!line?.isOpen) return;
    const safe = this.#safe();
    try {
      await line.write(safe ? 1 : 0);
      this.#changed(safe);
    } catch (error) {
      this.#ctx?.log.error({ line: this.#options.line, err: errorMessage(error) }, 'relay safe state failed');
    }
  }

  async close(): Promise<void> {
    const line = this.#line;
    this.#line = undefined;
    this.#state = undefined;
    await line?.close();
  }

  #safe(): boolean {
    return this.#options.safeState === 'on';
  }

  #changed(state: boolean): void {
    if (state !== this.#state && this.#ctx) this.#lastChangeMs = this.#ctx.clock.monotonicMs();
    this.#state = state;
  }
}

export const relayDriver: DriverFactory<RelayOptions> = {
  driver: 'relay',
  bus: 'gpio',
  options: relayOptions,
  create: (options: RelayOptions, buses: Buses) => new Relay(options, buses.gpio),
};
