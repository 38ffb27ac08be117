/**
 * What a GPIO driver test needs in place of the board and the supervisor: a simulated Pi 4 GPIO bus
 * (the SoC's `pinctrl-bcm2711` and the firmware's `raspberrypi-exp-gpio` expander) on a FakeClock, the
 * buses with only `gpio` real, and a RecordingContext for what the driver publishes and reports.
 */
import type { Buses } from '../../agent/hal/buses.js';
import { SimGpio } from '../../agent/hal/gpio/sim.js';
import { FakeClock } from './fake-clock.js';
import { onlyBuses } from './only-buses.js';
import { RecordingContext } from './recording-context.js';

export interface GpioDriverHarness {
  readonly clock: FakeClock;
  readonly sim: SimGpio;
  /** Only `gpio` is real; a GPIO driver touching another bus is a bug the test should see. */
  readonly buses: Buses;
  readonly ctx: RecordingContext;
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
  return { clock, sim, buses: onlyBuses({ gpio: sim }), ctx: new RecordingContext(clock) };
}
