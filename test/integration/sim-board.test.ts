/**
 * The whole simulated board in one process on a fake clock: config/dev.yaml (boards/sim.yaml with
 * wiring/chamber-kit-sim.yaml), the real drivers and supervisors, the simulated world. Shows the plant
 * responding to the heater and every kind of device failing and healing by itself.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, buildAgent } from '../../agent/build-agent.js';
import { silentLogger } from '../../agent/core/log.js';
import type { SimBme280Chip } from '../../agent/hal/drivers/bme280/sim-chip.js';
import { REPO_ROOT } from '../support/agent-process.js';
import { FakeClock } from '../support/fake-clock.js';
import { loadRepoConfig } from '../support/load-repo-config.js';

let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

async function simAgent() {
  const loaded = await loadRepoConfig(path.join(REPO_ROOT, 'config/dev.yaml'));
  const clock = new FakeClock();
  agent = await buildAgent(loaded, { clock, log: silentLogger() });
  await agent.start();
  const world = agent.world;
  if (!world) throw new Error('sim board without a world');
  return { clock, agent, world, points: agent.points };
}

const quality = (a: Agent, name: string) => a.points.get(name)?.quality;

describe('the simulated board', () => {
  it('brings every sensor point to good within a second', async () => {
    const { clock, points } = await simAgent();
    await clock.run(1000, 50);
    const sensors = points.list().filter((p) => !p.writable);
    expect(sensors.filter((p) => p.quality !== 'good').map((p) => p.name)).toEqual([]);
    expect(points.goodValue('chamber.temp')).toBeCloseTo(21, 0);
    expect(points.goodValue('fan.state')).toBe(true);
    expect(points.goodValue('heater.state')).toBe(false);
  });

  it('heats the chamber when the heater relay is switched on, after the dead time', async () => {
    const { clock, points, agent } = await simAgent();
    await clock.run(1000, 100);
    const before = points.goodValue('chamber.temp') as number;
    // Manual mode at full output: the relay stays on.
    const mode = { loop: 'chamber', mode: 'manual', output: 1 };
    await agent.commands.execute('loop.mode', mode, { via: 'test', who: 'tech' });
    await clock.run(200, 100);
    expect(points.goodValue('heater.state')).toBe(true);
    await clock.run(5000, 100);
    expect(points.goodValue('chamber.temp') as number).toBeLessThan(before + 0.3); // dead time: 10 s
    await clock.run(240_000, 500);
    // one time constant after the dead time: about 63 % of the 60 K gain
    expect(points.goodValue('chamber.temp') as number).toBeGreaterThan(before + 30);
  });

  it('faults an I2C sensor that stops answering and recovers it when it answers again', async () => {
    const { clock, agent, world } = await simAgent();
    await clock.run(1000, 100);
    const chip = world.i2c.chip(1, 0x76) as SimBme280Chip;
    chip.present = false;
    await clock.run(4000, 100);
    expect(quality(agent, 'chamber.temp')).toBe('fault');
    chip.present = true;
    await clock.run(40_000, 250);
    expect(quality(agent, 'chamber.temp')).toBe('good');
  });

  it('faults a serial sensor whose adapter is unplugged and recovers it when plugged back', async () => {
    const { clock, agent, world } = await simAgent();
    await clock.run(1000, 50);
    const port = world.serial.port('/dev/ttySIM0');
    port.unplug();
    await clock.run(1000, 50);
    expect(quality(agent, 'air.pm2_5')).toBe('fault');
    port.plug();
    await clock.run(40_000, 250);
    expect(quality(agent, 'air.pm2_5')).toBe('good');
  });

  it('marks a push sensor stale when it goes quiet', async () => {
    const { clock, agent, world } = await simAgent();
    await clock.run(1000, 50);
    world.stop(); // every simulated peer falls silent
    await clock.run(10 * 60_000, 1000);
    expect(quality(agent, 'outdoor.temperature')).toBe('stale');
    expect(quality(agent, 'air.pm2_5')).toBe('stale');
  });

  it('leaves every relay in its safe state after stop', async () => {
    const { clock, world, points } = await simAgent();
    await clock.run(1000, 100);
    await points.write('heater.state', true, 'test');
    const heater = world.gpio.line('sim-gpio', 17);
    const fan = world.gpio.line('sim-gpio', 18);
    expect([heater.value, fan.value]).toEqual([1, 1]);
    await agent?.stop();
    agent = undefined;
    expect([heater.value, fan.value]).toEqual([0, 0]);
  });
});

describe('the simulated chamber under control (config/dev.yaml)', () => {
  it('holds the chamber at its setpoint with the PID driving the heater relay', async () => {
    const { clock, points } = await simAgent();
    let peak = 0;
    const unsubscribe = points.subscribe('chamber.temp', (p) => {
      if (typeof p.value === 'number') peak = Math.max(peak, p.value);
    });
    await clock.run(30 * 60_000, 1000);
    unsubscribe();
    const temp = points.goodValue('chamber.temp') as number;
    expect(Math.abs(temp - 45)).toBeLessThan(0.5);
    expect(peak).toBeLessThan(45 + 3); // overshoot bounded
    expect(points.goodValue('loop.chamber.state')).toBe('auto');
  });

  it('lets the over-temperature interlock hold the heater off whatever the PID says', async () => {
    const { clock, points, agent } = await simAgent();
    await clock.run(10_000, 500);
    // A setpoint above the interlock is refused by the loop's setpointLimits; full heat by hand is not.
    const as = { via: 'test', who: 'tech' } as const;
    expect(await agent.commands.execute('loop.setpoint', { loop: 'chamber', value: 90 }, as)).toMatchObject({
      ok: false,
      code: 'EOUT_OF_RANGE',
    });
    await agent.commands.execute('loop.mode', { loop: 'chamber', mode: 'manual', output: 1 }, as);
    await clock.run(40 * 60_000, 1000);
    const temp = points.goodValue('chamber.temp') as number;
    expect(temp).toBeLessThan(72); // the interlock trips at 70 (+2 s debounce, +dead time)
    expect(temp).toBeGreaterThan(60);
    expect(agent.alarms.list().map((a) => a.id)).toContain('chamber.overtemp');
    expect(points.get('heater.state')?.forcedBy ?? 'released').toMatch(/rule:chamber.overtemp|released/);
  });

  it('puts the heater in its safe state when the chamber sensor fails and resumes without a bump', async () => {
    const { clock, points, agent, world } = await simAgent();
    await clock.run(20 * 60_000, 1000);
    const chip = world.i2c.chip(1, 0x76) as SimBme280Chip;
    chip.present = false;
    await clock.run(10_000, 500);
    expect(points.goodValue('loop.chamber.state')).toBe('safe');
    expect(points.get('heater.state')?.value).toBe(false);
    expect(agent.alarms.list().map((a) => a.id)).toContain('loop.chamber.input');
    chip.present = true;
    await clock.run(60_000, 500);
    expect(points.goodValue('loop.chamber.state')).toBe('auto');
    const output = points.goodValue('loop.chamber.output') as number;
    expect(output).toBeGreaterThan(0); // resumed from the safe output, integral re-initialised
    expect(output).toBeLessThanOrEqual(1);
  });
});
