import { describe, expect, it } from 'vitest';
import { digitalInputDriver } from '../../../../../agent/hal/drivers/digital-input/driver.js';
import { SimContact } from '../../../../../agent/hal/drivers/digital-input/sim-contact.js';
import { gpioDriverHarness } from '../../../../support/gpio-driver-harness.js';

const LINE = { chip: 'pinctrl-bcm2711', offset: 17 };

describe('SimContact', () => {
  it('holds the line open, and closes it for the last activeForS of every period', () => {
    const { sim } = gpioDriverHarness();
    const line = sim.line(LINE);
    const changes: number[] = [];
    const contact = new SimContact(line, {
      toggleEveryS: 10,
      activeForS: 2,
      onChange: (l) => changes.push(l),
    });
    expect(line.value).toBe(0);
    const levels: number[] = [];
    for (let i = 0; i < 20; i++) {
      contact.step(1);
      levels.push(line.value);
    }
    expect(levels).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0]);
    expect(changes).toEqual([1, 0, 1, 0]);
  });

  it('is closed for the lesser of 5 s and half the period by default', () => {
    const { sim } = gpioDriverHarness();
    const line = sim.line(LINE);
    const contact = new SimContact(line, { toggleEveryS: 4 });
    const levels: number[] = [];
    for (let i = 0; i < 4; i++) {
      contact.step(1);
      levels.push(line.value);
    }
    expect(levels).toEqual([0, 1, 1, 0]);
  });

  it('stays open without a period', () => {
    const { sim } = gpioDriverHarness();
    const line = sim.line(LINE);
    const contact = new SimContact(line);
    for (let i = 0; i < 100; i++) contact.step(1);
    expect(line.value).toBe(0);
  });

  it('rejects a period that is not positive', () => {
    const { sim } = gpioDriverHarness();
    expect(() => new SimContact(sim.line(LINE), { toggleEveryS: 0 })).toThrow(TypeError);
  });

  it('is what the digital-input driver sees open and close', async () => {
    const { sim, buses, ctx, clock } = gpioDriverHarness();
    const contact = new SimContact(sim.line(LINE), { toggleEveryS: 10, activeForS: 2 });
    const device = digitalInputDriver.create(digitalInputDriver.options.parse({ line: LINE }), buses);
    await device.open(ctx);
    for (let i = 0; i < 10; i++) {
      contact.step(1);
      await clock.advance(1000); // past the 20 ms debounce
    }
    expect(ctx.values('state')).toEqual([false, true, false]);
    await device.close();
  });
});
