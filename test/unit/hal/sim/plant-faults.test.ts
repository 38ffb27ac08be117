import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../agent/core/log.js';
import { SimBle } from '../../../../agent/hal/ble/sim.js';
import {
  DEFAULT_THERMAL_PLANT,
  type PlantFault,
  ThermalPlant,
} from '../../../../agent/hal/sim/thermal-plant.js';
import { SimWorld } from '../../../../agent/hal/sim/world.js';
import { simWorldSchema } from '../../../../agent/hal/sim/world-schema.js';
import { FakeClock } from '../../../support/fake-clock.js';

const still = { ...DEFAULT_THERMAL_PLANT, driftC: 0, noiseC: 0 };
const withFaults = (...faults: PlantFault[]) => new ThermalPlant({ ...still, faults });

describe('ThermalPlant faults', () => {
  it('heater-stuck-on heats at full power while the duty says off, after the dead time, then stops', () => {
    const plant = withFaults({ kind: 'heater-stuck-on', atS: 100, forS: 300 });
    plant.step(100, 0);
    expect(plant.temperatureC).toBeCloseTo(still.ambientC, 9);
    plant.step(still.deadTimeS, 0);
    expect(plant.temperatureC).toBeCloseTo(still.ambientC, 9); // the dead time still applies
    plant.step(still.tauS, 0);
    expect(plant.temperatureC - still.ambientC).toBeCloseTo(still.gainC * (1 - Math.exp(-1)), 6);
    const atEnd = plant.temperatureC;
    plant.step(1000, 0);
    expect(plant.temperatureC).toBeLessThan(atEnd); // released: cools towards ambient
  });

  it('starts a fault at its exact time whatever the step size', () => {
    const coarse = withFaults({ kind: 'heater-stuck-on', atS: 33.3, forS: 100 });
    const fine = withFaults({ kind: 'heater-stuck-on', atS: 33.3, forS: 100 });
    coarse.step(200, 0);
    for (let i = 0; i < 2000; i++) fine.step(0.1, 0);
    expect(coarse.temperatureC).toBeCloseTo(fine.temperatureC, 6);
  });

  it('sensor-drift moves the reading linearly away from the true temperature, then reads true again', () => {
    const plant = withFaults({ kind: 'sensor-drift', atS: 60, forS: 7200, driftCPerH: 4 });
    plant.step(60, 0);
    expect(plant.measure().temperatureC).toBeCloseTo(plant.temperatureC, 9);
    plant.step(1800, 0);
    expect(plant.measure().temperatureC - plant.temperatureC).toBeCloseTo(2, 9);
    plant.step(1800, 0);
    expect(plant.measure().temperatureC - plant.temperatureC).toBeCloseTo(4, 9);
    expect(plant.temperatureC).toBeCloseTo(still.ambientC, 9); // the chamber itself is untouched
    plant.step(3600, 0);
    expect(plant.measure().temperatureC).toBeCloseTo(plant.temperatureC, 9);
  });

  it('door-open divides the time constant and the heater gain by 1 + lossFactor', () => {
    const lossFactor = 1.5;
    const plant = withFaults({ kind: 'door-open', atS: 0, lossFactor });
    plant.step(still.deadTimeS, 1);
    plant.step(still.tauS / (1 + lossFactor), 1); // one (shortened) time constant
    const gain = still.gainC / (1 + lossFactor);
    expect(plant.temperatureC - still.ambientC).toBeCloseTo(gain * (1 - Math.exp(-1)), 6);
    plant.step(100 * still.tauS, 1);
    expect(plant.temperatureC - still.ambientC).toBeCloseTo(gain, 6); // the lower steady state
  });

  it('refuses a fault with a bad time or size, naming it', () => {
    expect(() => withFaults({ kind: 'door-open', atS: -1, lossFactor: 1 })).toThrow(/faults\[0\]\.atS/);
    expect(() => withFaults({ kind: 'door-open', atS: 0, lossFactor: 0 })).toThrow(/faults\[0\]\.lossFactor/);
    expect(() => withFaults({ kind: 'heater-stuck-on', atS: 0, forS: 0 })).toThrow(/faults\[0\]\.forS/);
  });
});

describe('sim.faults', () => {
  const chamber = { heater: 'heater', sensor: 'chamber', noiseC: 0, driftC: 0 };

  it('validates each kind with its defaults', () => {
    const parsed = simWorldSchema.parse({
      chamber,
      faults: [
        { kind: 'heater-stuck-on', atS: 10 },
        { kind: 'sensor-drift', atS: 10, forS: 600 },
        { kind: 'door-open', atS: 10, forS: 60 },
      ],
    });
    expect(parsed.faults).toEqual([
      { kind: 'heater-stuck-on', atS: 10 },
      { kind: 'sensor-drift', atS: 10, forS: 600, driftCPerH: 5 },
      { kind: 'door-open', atS: 10, forS: 60, lossFactor: 1 },
    ]);
  });

  it('refuses an unknown kind, a field of another kind, and faults without a chamber', () => {
    expect(simWorldSchema.safeParse({ chamber, faults: [{ kind: 'fire', atS: 0 }] }).success).toBe(false);
    const misplaced = { chamber, faults: [{ kind: 'heater-stuck-on', atS: 0, driftCPerH: 3 }] };
    expect(simWorldSchema.safeParse(misplaced).success).toBe(false);
    const orphan = simWorldSchema.safeParse({ faults: [{ kind: 'heater-stuck-on', atS: 0 }] });
    expect(orphan.success).toBe(false);
    expect(orphan.error?.issues[0]?.path).toEqual(['faults']);
  });

  it('reaches the world’s plant: a stuck heater warms the chamber while the relay line stays off', async () => {
    const clock = new FakeClock();
    const params = simWorldSchema.parse({ chamber, faults: [{ kind: 'heater-stuck-on', atS: 60 }] });
    const world = new SimWorld(
      { clock, log: silentLogger(), ble: new SimBle({ clock }) },
      {
        gpioChips: [{ label: 'sim-gpio', ngpio: 32 }],
        i2cBuses: [1],
        devices: [
          { id: 'heater', driver: 'relay', options: { line: { chip: 'sim-gpio', offset: 17 } } },
          { id: 'chamber', driver: 'bme280', options: { bus: 1, address: 0x76 } },
        ],
        params,
      },
    );
    world.start();
    await clock.advance(60_000);
    expect(world.plant?.temperatureC).toBeCloseTo(21, 6);
    await clock.advance(300_000);
    expect(world.plant?.temperatureC).toBeGreaterThan(40);
    expect(world.gpio.line({ chip: 'sim-gpio', offset: 17 }).value).toBe(0);
    world.stop();
  });
});
