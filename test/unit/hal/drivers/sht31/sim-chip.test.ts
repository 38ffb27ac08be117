import { describe, expect, it } from 'vitest';
import { SimSht31Chip } from '../../../../../agent/hal/drivers/sht31/sim-chip.js';
import { isI2cNack } from '../../../../../agent/hal/i2c/errors.js';
import { SimI2c } from '../../../../../agent/hal/i2c/sim.js';
import { FakeClock } from '../../../../support/fake-clock.js';

describe('SimSht31Chip', () => {
  it('NACKs a read until its measurement is done, and hands out each result once', async () => {
    const clock = new FakeClock();
    const sim = new SimI2c();
    sim.attach(1, 0x44, new SimSht31Chip({ clock }));
    const bus = await sim.open(1);
    await bus.i2cWrite(0x44, Uint8Array.of(0x24, 0x00));
    await expect(bus.i2cRead(0x44, 6)).rejects.toSatisfy(isI2cNack);
    await clock.advance(13);
    expect((await bus.i2cRead(0x44, 6)).length).toBe(6);
    await expect(bus.i2cRead(0x44, 6)).rejects.toSatisfy(isI2cNack);
  });
});
