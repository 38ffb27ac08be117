/**
 * A `Buses` for a driver test in which only the buses the test gives are real. A driver that touches
 * any other is a bug the test should see, so using one throws, naming the bus, instead of failing later
 * on an `undefined`.
 */
import type { Buses, BusKind } from '../../agent/hal/buses.js';

export function onlyBuses(real: Partial<Buses>): Buses {
  return {
    gpio: real.gpio ?? absentBus('gpio'),
    i2c: real.i2c ?? absentBus('i2c'),
    serial: real.serial ?? absentBus('serial'),
    ble: real.ble ?? absentBus('ble'),
  };
}

function absentBus(kind: BusKind): never {
  return new Proxy(
    {},
    {
      get: (_target, name) => {
        throw new Error(
          `the driver used the ${kind} bus (${String(name)}), which this test does not give it`,
        );
      },
    },
  ) as never;
}
