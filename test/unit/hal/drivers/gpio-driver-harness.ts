/**
 * What the GPIO driver tests share: a simulated Pi 4 GPIO bus on a FakeClock, and a DeviceContext that
 * records what a driver publishes and reports, in place of the supervisor.
 */

import { silentLogger } from '../../../../agent/core/log.js';
import type { PointValue } from '../../../../agent/core/points.js';
import type { Buses } from '../../../../agent/hal/buses.js';
import type { DeviceContext } from '../../../../agent/hal/device.js';
import { SimGpio } from '../../../../agent/hal/gpio/sim.js';
import { FakeClock } from '../../../support/fake-clock.js';

export interface Published {
  readonly channel: string;
  readonly value: PointValue;
  readonly monoMs: number;
}

export interface GpioDriverHarness {
  readonly clock: FakeClock;
  readonly sim: SimGpio;
  /** Only `gpio` is real; a GPIO driver touching another bus is a bug the test should see. */
  readonly buses: Buses;
  readonly ctx: DeviceContext;
  readonly published: Published[];
  readonly failures: Error[];
  /** Published values of one channel, in order. */
  values(channel: string): PointValue[];
}

export function gpioDriverHarness(): GpioDriverHarness {
  const clock = new FakeClock();
  const sim = new SimGpio({
    clock,
    chips: [
      { label: 'pinctrl-bcm2711', ngpio: 58 },
      { label: 'raspberrypi-exp-gpio', ngpio: 8 },
    ],
  });
  const published: Published[] = [];
  const failures: Error[] = [];
  const absent = new Proxy(
    {},
    {
      get: (_t, name) => {
        throw new Error(`a GPIO driver used another bus (${String(name)})`);
      },
    },
  ) as never;
  const ctx: DeviceContext = {
    clock,
    log: silentLogger(),
    signal: new AbortController().signal,
    publish: (channel, value) => published.push({ channel, value, monoMs: clock.monotonicMs() }),
    fail: (error) => failures.push(error),
    lost: (error) => failures.push(error),
  };
  return {
    clock,
    sim,
    buses: { gpio: sim, i2c: absent, serial: absent, ble: absent },
    ctx,
    published,
    failures,
    values: (channel) => published.filter((p) => p.channel === channel).map((p) => p.value),
  };
}
