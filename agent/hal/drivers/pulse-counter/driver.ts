/**
 * Counts pulses on one GPIO input — a hall-effect flow meter, a water or gas meter's reed contact, an
 * energy meter's S0 output — and turns them into a rate and a total. `pulsesPerUnit` is the meter's
 * K-factor in pulses per unit of `totalUnit` (YF-S201: F = 7.5·Q with Q in L/min, so 450 pulses per
 * litre, 450 000 per m³). Each poll publishes `rate` in `totalUnit` per second (`unit`, default m3/s)
 * averaged over the last `windowMs` of edge timestamps (over the time since open until a full window
 * has passed), and `total` since the agent started. Every edge is counted once, when it arrives, into
 * a running total that polls only read — so nothing is lost between windows, and a reopen continues
 * the total. Both units are ones the agent produces (senml-units.ts): litres are NOT RECOMMENDED by
 * RFC 8428 §12.1, hence the defaults m3 and m3/s.
 */
import { z } from 'zod';
import { PRODUCED_UNITS } from '../../../core/senml-units.js';
import type { Buses } from '../../buses.js';
import type { ChannelDecl, Device, DeviceContext } from '../../device.js';
import type { GpioBackend, GpioInput } from '../../gpio/types.js';
import type { DriverFactory } from '../driver-factory.js';
import { biasOf, gpioLineOption, openError, pullOption } from '../gpio-options.js';

export const pulseCounterOptions = z.strictObject({
  line: gpioLineOption,
  edge: z.enum(['rising', 'falling']).default('rising'),
  /** K-factor: pulses per unit of `totalUnit`. */
  pulsesPerUnit: z.number().positive().finite(),
  windowMs: z.number().int().min(100).max(3_600_000).default(1000),
  /** SenML unit of `rate` (`totalUnit` per second). */
  unit: z.enum(PRODUCED_UNITS).default('m3/s'),
  /** SenML unit of `total`. */
  totalUnit: z.enum(PRODUCED_UNITS).default('m3'),
  /** Hall-effect sensors give clean edges (0); reed contacts need a few ms. */
  debounceMs: z.number().int().min(0).max(10_000).default(0),
  pull: pullOption,
});

export type PulseCounterOptions = z.infer<typeof pulseCounterOptions>;

export class PulseCounter implements Device {
  readonly channels: readonly ChannelDecl[];
  readonly #gpio: GpioBackend;
  readonly #options: PulseCounterOptions;
  #ctx: DeviceContext | undefined;
  #line: GpioInput | undefined;
  #pulses = 0;
  /** Timestamps of the edges still inside the window, oldest first from `#head`. */
  #times: number[] = [];
  #head = 0;
  #openedAtMs = 0;

  constructor(options: PulseCounterOptions, gpio: GpioBackend) {
    this.#options = options;
    this.#gpio = gpio;
    this.channels = [
      { channel: 'rate', unit: options.unit },
      { channel: 'total', unit: options.totalUnit },
    ];
  }

  /** Pulses counted since the agent started (survives reopen). */
  get pulses(): number {
    return this.#pulses;
  }

  async open(ctx: DeviceContext): Promise<void> {
    const o = this.#options;
    this.#ctx = ctx;
    try {
      this.#line = await this.#gpio.openInput(o.line, {
        edge: o.edge,
        debounceMs: o.debounceMs,
        bias: biasOf(o.pull),
      });
    } catch (error) {
      throw openError(error);
    }
    // Edges while closed were not seen: the rate window starts afresh, the total carries on.
    this.#times = [];
    this.#head = 0;
    this.#openedAtMs = ctx.clock.monotonicMs();
    this.#line.watch(
      (e) => this.#pulse(e.monoMs),
      (error) => ctx.fail(error),
    );
  }

  async poll(): Promise<void> {
    const ctx = this.#ctx;
    if (!this.#line || !ctx) throw new Error('pulse counter is not open');
    // A poll does no bus I/O, so this is how a line closed under the driver gets noticed and reopened.
    if (!this.#line.isOpen)
      throw new Error(
        `pulse counter line ${this.#options.line.chip}:${this.#options.line.offset} was closed`,
      );
    const now = ctx.clock.monotonicMs();
    const windowMs = this.#options.windowMs;
    this.#prune(now - windowMs);
    const spanMs = Math.min(windowMs, now - this.#openedAtMs);
    const inWindow = this.#times.length - this.#head;
    const rate = spanMs > 0 ? inWindow / this.#options.pulsesPerUnit / (spanMs / 1000) : 0;
    ctx.publish('rate', rate);
    ctx.publish('total', this.#pulses / this.#options.pulsesPerUnit);
  }

  async close(): Promise<void> {
    const line = this.#line;
    this.#line = undefined;
    await line?.close();
  }

  #pulse(monoMs: number): void {
    this.#pulses++;
    this.#times.push(monoMs);
    this.#prune(monoMs - this.#options.windowMs);
  }

  /** Drops timestamps at or before `cutoffMs`; compacts now and then so the array stays window-sized. */
  #prune(cutoffMs: number): void {
    while (this.#head < this.#times.length && (this.#times[this.#head] as number) <= cutoffMs) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }
}

export const pulseCounterDriver: DriverFactory<PulseCounterOptions> = {
  driver: 'pulse-counter',
  bus: 'gpio',
  options: pulseCounterOptions,
  create: (options: PulseCounterOptions, buses: Buses) => new PulseCounter(options, buses.gpio),
};
