/**
 * The simulator's device side — what a plant model and a test see of the wire. The bus behaviour the
 * agent sees is covered by the contract suite (test/contract/gpio.contract.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { GpioError } from '../../../../agent/hal/gpio/errors.js';
import { SimGpio } from '../../../../agent/hal/gpio/sim.js';
import type { GpioEdgeEvent, GpioLevel } from '../../../../agent/hal/gpio/types.js';
import { FakeClock } from '../../../support/fake-clock.js';

const PI4_CHIPS = [
  { label: 'pinctrl-bcm2711', ngpio: 58 },
  { label: 'raspberrypi-exp-gpio', ngpio: 8 },
];
const HEATER = { chip: 'pinctrl-bcm2711', offset: 17 };
const DOOR = { chip: 'pinctrl-bcm2711', offset: 27 };

function setup() {
  const clock = new FakeClock();
  const sim = new SimGpio({ clock, chips: PI4_CHIPS });
  return { clock, sim };
}

describe('SimGpio chips', () => {
  it('assigns bases from 512 in registration order, as Linux ≥ 6.6 does', async () => {
    const { sim } = setup();
    await expect(sim.listChips()).resolves.toEqual([
      { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
      { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
    ]);
  });

  it('refuses a device-side line the board does not have, like the real bus', () => {
    const { sim } = setup();
    expect(() => sim.line('pinctrl-rp1', 17)).toThrow(expect.objectContaining({ code: 'EUNKNOWN_CHIP' }));
    expect(() => sim.line('pinctrl-bcm2711', 58)).toThrow(expect.objectContaining({ code: 'EOFFSET_RANGE' }));
  });

  it('keeps state per instance: two simulators do not share lines', async () => {
    const a = setup().sim;
    const b = setup().sim;
    await a.openOutput(HEATER, { initial: 1 });
    expect(a.line(HEATER).value).toBe(1);
    expect(b.line(HEATER).value).toBe(0);
    await expect(b.openOutput(HEATER, { initial: 0 })).resolves.toBeDefined();
  });
});

describe('SimLine for an output (a heater relay)', () => {
  it('records the initial level at open and every write, electrically, with monotonic times', async () => {
    const { sim, clock } = setup();
    const line = sim.line('pinctrl-bcm2711', 17);
    expect(line.lastWrite).toBeUndefined();
    const out = await sim.openOutput(HEATER, { initial: 0, activeLow: true });
    await clock.advance(100);
    await out.write(1);
    expect(line.writes).toEqual([
      { level: 1, monoMs: 1000 },
      { level: 0, monoMs: 1100 },
    ]);
    expect(line.lastWrite).toBe(0);
    expect(line.value).toBe(0);
    expect(line).toMatchObject({ direction: 'out', isOpen: true, activeLow: true });
  });

  it('lets a plant model follow the output through onWrite until it unsubscribes', async () => {
    const { sim } = setup();
    const heard: GpioLevel[] = [];
    const off = sim.line(HEATER).onWrite((level) => heard.push(level));
    const out = await sim.openOutput(HEATER, { initial: 0 });
    await out.write(1);
    off();
    await out.write(0);
    expect(heard).toEqual([0, 1]);
  });

  it('keeps driving its last level after close, and refuses to be driven from outside', async () => {
    const { sim } = setup();
    const out = await sim.openOutput(HEATER, { initial: 1 });
    await out.close();
    const line = sim.line(HEATER);
    expect(line).toMatchObject({ value: 1, direction: 'out', isOpen: false });
    expect(() => line.drive(0)).toThrow(GpioError);
  });

  it("fails the agent's writes while told to, keeping the level it had", async () => {
    const { sim } = setup();
    const out = await sim.openOutput(HEATER, { initial: 1 });
    const line = sim.line(HEATER);
    const eio = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    line.failWrites(eio);
    await expect(out.write(0)).rejects.toBe(eio);
    expect(line.value).toBe(1);
    line.failWrites(undefined);
    await out.write(0);
    expect(line.value).toBe(0);
  });
});

describe('SimLine for an input (a door contact)', () => {
  it('is driven before the agent opens it, and the agent reads that level at open', async () => {
    const { sim } = setup();
    sim.line(DOOR).drive(1);
    const door = await sim.openInput(DOOR);
    await expect(door.read()).resolves.toBe(1);
  });

  it('falls back to the pull when released', async () => {
    const { sim } = setup();
    const door = await sim.openInput(DOOR, { bias: 'pull-up', edge: 'both' });
    const events: GpioEdgeEvent[] = [];
    door.watch((e) => events.push(e));
    const line = sim.line(DOOR);
    expect(line.value).toBe(1);
    line.drive(0);
    line.release();
    expect(events.map((e) => e.value)).toEqual([0, 1]);
    expect(line.bias).toBe('pull-up');
  });

  it('reports nothing when driven to the level it already has', async () => {
    const { sim } = setup();
    const door = await sim.openInput(DOOR, { edge: 'both' });
    const events: GpioEdgeEvent[] = [];
    door.watch((e) => events.push(e));
    sim.line(DOOR).drive(0);
    sim.line(DOOR).drive(0);
    expect(events).toEqual([]);
  });

  it('shows how the agent opened it and how many watchers it has', async () => {
    const { sim } = setup();
    const door = await sim.openInput(DOOR, { edge: 'falling', debounceMs: 20 });
    const remove = door.watch(() => undefined);
    expect(sim.line(DOOR)).toMatchObject({
      direction: 'in',
      edge: 'falling',
      debounceMs: 20,
      watcherCount: 1,
    });
    remove();
    expect(sim.line(DOOR).watcherCount).toBe(0);
    await door.close();
    expect(sim.line(DOOR)).toMatchObject({ isOpen: false, edge: undefined });
  });

  it('rejects a level other than 0 or 1', () => {
    const { sim } = setup();
    expect(() => sim.line(DOOR).drive(2 as GpioLevel)).toThrow(TypeError);
  });
});

describe('SimGpio.connect', () => {
  it('wires an output to an input like a jumper, until removed', async () => {
    const { sim } = setup();
    const unplug = sim.connect(HEATER, DOOR);
    const out = await sim.openOutput(HEATER, { initial: 1 });
    expect(sim.line(DOOR).value).toBe(1);
    unplug();
    await out.write(0);
    expect(sim.line(DOOR).value).toBe(1);
  });
});
