import { describe, expect, it } from 'vitest';
import { hostPaths } from '../../../agent/core/host-paths.js';
import { silentLogger } from '../../../agent/core/log.js';
import { createBuses } from '../../../agent/hal/create-buses.js';
import { simWorldSchema } from '../../../agent/hal/sim/world-schema.js';
import { FakeClock } from '../../support/fake-clock.js';

const deps = () => ({ clock: new FakeClock(), log: silentLogger(), paths: hostPaths({}) });
const kinds = (buses: Record<string, { kind: string }>) =>
  Object.fromEntries(Object.entries(buses).map(([name, bus]) => [name, bus.kind]));

describe('createBuses', () => {
  it('gives a real board the four Linux backends and no world, opening nothing', async () => {
    const set = await createBuses({ backend: 'linux', bleAdapter: 'hci0' }, deps());
    expect(kinds({ ...set.buses })).toEqual({ gpio: 'linux', i2c: 'linux', serial: 'linux', ble: 'linux' });
    expect(set.world).toBeUndefined();
    await set.start();
    await set.stop();
  });

  it('gives a simulated board the simulated world, whose buses are the ones returned', async () => {
    const set = await createBuses(
      {
        backend: 'sim',
        sim: {
          gpioChips: [{ label: 'sim-gpio', ngpio: 32 }],
          i2cBuses: [1],
          devices: [{ id: 'air', driver: 'bme280', options: { bus: 1, address: 0x76 } }],
          params: simWorldSchema.parse({}),
        },
      },
      deps(),
    );
    expect(kinds({ ...set.buses })).toEqual({ gpio: 'sim', i2c: 'sim', serial: 'sim', ble: 'sim' });
    expect(set.world?.buses).toBe(set.buses);
    expect(set.world?.i2c.chip(1, 0x76)).toBeDefined();
    await set.start();
    await set.stop();
  });

  it('refuses a simulated board without its world spec', async () => {
    await expect(createBuses({ backend: 'sim' }, deps())).rejects.toThrow(TypeError);
  });
});
