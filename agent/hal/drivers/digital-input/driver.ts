/**
 * A contact on one GPIO input — door switch, float switch, alarm output. Channel `state` (boolean,
 * `true` = logical 1; use `activeLow` for a contact that pulls the line low when closed) is published
 * once at open from a read, then on every debounced change. It is a push device: no polling, and the
 * point does not go stale while the door stays shut for a week.
 */
import { z } from 'zod';
import type { Buses } from '../../buses.js';
import type { ChannelDecl, Device, DeviceContext } from '../../device.js';
import type { GpioBackend, GpioInput } from '../../gpio/types.js';
import type { DriverFactory } from '../driver-factory.js';
import { biasOf, gpioLineOption, openError, pullOption } from '../gpio-options.js';

export const digitalInputOptions = z.strictObject({
  line: gpioLineOption,
  activeLow: z.boolean().default(false),
  /** A mechanical contact bounces for a few ms; 20 ms hides it without delaying a person noticeably. */
  debounceMs: z.number().int().min(0).max(60_000).default(20),
  pull: pullOption,
});

export type DigitalInputOptions = z.infer<typeof digitalInputOptions>;

export class DigitalInput implements Device {
  readonly channels: readonly ChannelDecl[] = [{ channel: 'state' }];
  readonly #gpio: GpioBackend;
  readonly #options: DigitalInputOptions;
  #line: GpioInput | undefined;

  constructor(options: DigitalInputOptions, gpio: GpioBackend) {
    this.#options = options;
    this.#gpio = gpio;
  }

  async open(ctx: DeviceContext): Promise<void> {
    const o = this.#options;
    try {
      this.#line = await this.#gpio.openInput(o.line, {
        edge: 'both',
        debounceMs: o.debounceMs,
        activeLow: o.activeLow,
        bias: biasOf(o.pull),
      });
    } catch (error) {
      throw openError(error);
    }
    // Watch before reading, so no change falls between the two; an edge that arrives while the read is
    // pending is newer than the read and must not be overwritten by it.
    let changed = false;
    this.#line.watch(
      (e) => {
        changed = true;
        ctx.publish('state', e.value === 1);
      },
      (error) => ctx.fail(error),
    );
    const level = await this.#line.read();
    if (!changed) ctx.publish('state', level === 1);
  }

  async close(): Promise<void> {
    const line = this.#line;
    this.#line = undefined;
    await line?.close();
  }
}

export const digitalInputDriver: DriverFactory<DigitalInputOptions> = {
  driver: 'digital-input',
  bus: 'gpio',
  options: digitalInputOptions,
  create: (options: DigitalInputOptions, buses: Buses) => new DigitalInput(options, buses.gpio),
};
