import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../agent/hal/sim/random.js';
import { DEFAULT_THERMAL_PLANT, ThermalPlant } from '../../../../agent/hal/sim/thermal-plant.js';

const still = { ...DEFAULT_THERMAL_PLANT, driftC: 0, noiseC: 0 };

describe('ThermalPlant', () => {
  it('rests at ambient with the heater off', () => {
    const plant = new ThermalPlant(still);
    plant.step(1000, 0);
    expect(plant.temperatureC).toBeCloseTo(still.ambientC, 9);
  });

  it('follows a first-order step response after the dead time', () => {
    const p = { ...still, tauS: 100, deadTimeS: 10, gainC: 50 };
    const plant = new ThermalPlant(p);
    plant.step(10, 1);
    expect(plant.temperatureC).toBeCloseTo(p.ambientC, 9); // nothing yet: dead time
    plant.step(100, 1);
    // one time constant after the dead time: 63.2 % of the gain
    expect(plant.temperatureC - p.ambientC).toBeCloseTo(p.gainC * (1 - Math.exp(-1)), 6);
  });

  it('gives the same trajectory whatever the step size', () => {
    const coarse = new ThermalPlant(still);
    const fine = new ThermalPlant(still);
    coarse.step(30, 1);
    coarse.step(30, 0);
    for (let i = 0; i < 600; i++) fine.step(0.1, i < 300 ? 1 : 0);
    expect(fine.temperatureC).toBeCloseTo(coarse.temperatureC, 6);
  });

  it('adds seeded noise to measurements only, reproducibly', () => {
    const a = new ThermalPlant({ ...still, noiseC: 0.5 }, seededRandom(7));
    const b = new ThermalPlant({ ...still, noiseC: 0.5 }, seededRandom(7));
    expect(a.measure().temperatureC).toBe(b.measure().temperatureC);
    expect(a.measure().temperatureC).not.toBe(a.temperatureC);
  });

  it('lowers relative humidity as the chamber heats', () => {
    const plant = new ThermalPlant(still);
    const before = plant.measure().humidityPct;
    plant.step(2000, 1);
    expect(plant.measure().humidityPct).toBeLessThan(before / 2);
  });
});
