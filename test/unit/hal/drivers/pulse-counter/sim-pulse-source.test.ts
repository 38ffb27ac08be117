import { describe, expect, it } from 'vitest';
import { pulseCounterDriver } from '../../../../../agent/hal/drivers/pulse-counter/driver.js';
import { SimPulseSource } from '../../../../../agent/hal/drivers/pulse-counter/sim-pulse-source.js';
import { seededRandom } from '../../../../../agent/hal/sim/random.js';
import { gpioDriverHarness } from '../../../../support/gpio-driver-harness.js';

const LINE = { chip: 'pinctrl-bcm2711', offset: 22 };

describe('SimPulseSource', () => {
  it('rests at its idle level: low for rising-edge pulses, high for falling-edge ones', () => {
    const { sim } = gpioDriverHarness();
    const random = seededRandom(1);
    new SimPulseSource(sim.line(LINE), { fallingEdge: false, pulsesPerS: 10, random });
    expect(sim.line(LINE).value).toBe(0);
    const other = { chip: 'pinctrl-bcm2711', offset: 23 };
    new SimPulseSource(sim.line(other), { fallingEdge: true, pulsesPerS: 10, random });
    expect(sim.line(other).value).toBe(1);
  });

  it('delivers the mean rate within its 5 % jitter, the same for the same seed', async () => {
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      const { sim, buses, ctx, clock } = gpioDriverHarness();
      const source = new SimPulseSource(sim.line(LINE), {
        fallingEdge: false,
        pulsesPerS: 100,
        random: seededRandom(7),
      });
      const device = pulseCounterDriver.create(
        pulseCounterDriver.options.parse({ line: LINE, pulsesPerUnit: 1 }),
        buses,
      );
      await device.open(ctx);
      for (let i = 0; i < 100; i++) {
        source.step(0.1);
        await clock.advance(100);
      }
      await device.poll?.();
      counts.push(ctx.last('total') as number);
      await device.close();
    }
    expect(counts[0]).toBeGreaterThanOrEqual(950);
    expect(counts[0]).toBeLessThanOrEqual(1050);
    expect(counts[1]).toBe(counts[0]);
  });

  it('rejects a negative rate', () => {
    const { sim } = gpioDriverHarness();
    expect(
      () =>
        new SimPulseSource(sim.line(LINE), { fallingEdge: false, pulsesPerS: -1, random: seededRandom(1) }),
    ).toThrow(TypeError);
  });
});
