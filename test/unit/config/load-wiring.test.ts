import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configError, loadIn, TEST_BOARD, writeFiles } from '../../support/config-fixture.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs();

const CHAMBER = `  - id: chamber
    driver: probe
    options: { bus: 1 }
`;
const HEATER = `  - id: heater
    driver: switch
    options:
      line: { chip: chip0, offset: 17 }
`;
/** A wiring file with both devices: `chamber` on lines 2–4, `heater` on lines 5–8. */
const KIT = `devices:\n${CHAMBER}${HEATER}`;
const LINUX_BOARD = TEST_BOARD.replace('backend: sim', 'backend: linux');

async function setup(files: Record<string, string>) {
  const dir = await tempDir();
  await writeFiles(dir, { 'boards/test.yaml': TEST_BOARD, ...files });
  return dir;
}

describe('wiring: the devices of a site', () => {
  it('may be listed in agent.yaml under devices:', async () => {
    const dir = await setup({ 'agent.yaml': `board: boards/test.yaml\ndevices:\n${CHAMBER}` });
    const loaded = await loadIn(dir);
    expect(loaded.devices.map((d) => [d.entry.id, d.options, d.file])).toEqual([
      ['chamber', { bus: 1, address: 0x76 }, path.join(dir, 'agent.yaml')],
    ]);
    expect(loaded.wiringFiles).toEqual([]);
  });

  it('may be in a wiring file that agent.yaml names, relative to agent.yaml', async () => {
    const dir = await setup({
      'site/agent.yaml': 'board: ../boards/test.yaml\nwiring: wiring/kit.yaml\n',
      'site/wiring/kit.yaml': KIT,
    });
    const loaded = await loadIn(dir, {}, { configFile: path.join(dir, 'site/agent.yaml') });
    const kit = path.join(dir, 'site/wiring/kit.yaml');
    expect(loaded.wiringFiles).toEqual([kit]);
    expect(loaded.devices.map((d) => [d.entry.id, d.file])).toEqual([
      ['chamber', kit],
      ['heater', kit],
    ]);
    expect(loaded.devices[1]?.options).toEqual({ line: { chip: 'chip0', offset: 17 } });
  });

  it("comes from agent.yaml's devices first, then each wiring file in the order they are named", async () => {
    const dir = await setup({
      'agent.yaml': `board: boards/test.yaml\nwiring: [heater.yaml, extra.yaml]\ndevices:\n${CHAMBER}`,
      'heater.yaml': `devices:\n${HEATER}`,
      'extra.yaml': 'devices:\n  - { id: spare, driver: probe, options: { bus: 1, address: 0x77 } }\n',
    });
    const loaded = await loadIn(dir);
    expect(loaded.devices.map((d) => d.entry.id)).toEqual(['chamber', 'heater', 'spare']);
  });

  it('may be named by EDGE_AGENT_WIRING', async () => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\n', 'kit.yaml': KIT });
    const loaded = await loadIn(dir, { EDGE_AGENT_WIRING: path.join(dir, 'kit.yaml') });
    expect(loaded.devices.map((d) => d.entry.id)).toEqual(['chamber', 'heater']);
  });

  it('names both places when a device id is defined in agent.yaml and in a wiring file', async () => {
    const dir = await setup({
      'agent.yaml': `board: boards/test.yaml\nwiring: kit.yaml\ndevices:\n${HEATER}`,
      'kit.yaml': KIT,
    });
    const e = await configError(loadIn(dir));
    expect(e.message).toBe(
      `${path.join(dir, 'kit.yaml')}:5: devices.1.id: device id "heater" is defined twice: first at ${path.join(dir, 'agent.yaml')}:4`,
    );
  });

  it('names both lines when a device id is defined twice in one wiring file', async () => {
    const dir = await setup({
      'agent.yaml': 'board: boards/test.yaml\nwiring: kit.yaml\n',
      'kit.yaml': KIT.replace('id: heater', 'id: chamber'),
    });
    const e = await configError(loadIn(dir));
    const kit = path.join(dir, 'kit.yaml');
    expect(e.message).toBe(`${kit}:5: devices.1.id: device id "chamber" is defined twice: first at ${kit}:2`);
  });

  it('reports a wiring file that cannot be read at the agent.yaml line that names it', async () => {
    const dir = await setup({
      'agent.yaml': 'board: boards/test.yaml\nwiring:\n  - kit.yaml\n  - nokit.yaml\n',
    });
    await writeFiles(dir, { 'kit.yaml': KIT });
    const e = await configError(loadIn(dir));
    expect(e.message).toBe(
      `${path.join(dir, 'agent.yaml')}:4: wiring.1: wiring file ${path.join(dir, 'nokit.yaml')}: cannot read: file not found`,
    );
  });

  it('says what wiring: expects', async () => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\nwiring: 42\n' });
    const e = await configError(loadIn(dir));
    expect(e.message).toBe(
      `${path.join(dir, 'agent.yaml')}:2: wiring: expected a wiring file name or a list of them`,
    );
  });

  it('rejects a wiring file with anything but devices: and sim:', async () => {
    const dir = await setup({
      'agent.yaml': 'board: boards/test.yaml\nwiring: kit.yaml\n',
      'kit.yaml': `${KIT}loops: []\n`,
    });
    const e = await configError(loadIn(dir));
    expect(e.message).toBe(`${path.join(dir, 'kit.yaml')}:9: loops: unknown field "loops"`);
  });

  it('lists the mistakes of agent.yaml and of every wiring file in one error', async () => {
    const dir = await setup({
      'agent.yaml': `board: boards/test.yaml\nwiring: [a.yaml, b.yaml]\ndevices:\n${CHAMBER.replace('bus: 1', 'bus: 2')}`,
      'a.yaml': `devices:\n${HEATER.replace('chip: chip0', 'chip: chipX')}`,
      'b.yaml': 'devices:\n  - { id: spare, driver: bmp999 }\n',
    });
    const e = await configError(loadIn(dir));
    expect(e.message.split('\n')).toEqual([
      `${path.join(dir, 'agent.yaml')}:6: devices.0.options.bus: I2C bus 2 is not on board testboard (buses: 1)`,
      `${path.join(dir, 'a.yaml')}:5: devices.0.options.line.chip: GPIO chip "chipX" is not on board testboard (chips: chip0)`,
      `${path.join(dir, 'b.yaml')}:2: devices.0.driver: unknown driver "bmp999"; expected one of probe, switch`,
    ]);
  });
});

describe('a mistake in a wiring file names that file, the line, the field and what was expected', () => {
  const cases: [string, string, string][] = [
    [
      'an unknown driver',
      KIT.replace('driver: probe', 'driver: bmp999'),
      'kit.yaml:3: devices.0.driver: unknown driver "bmp999"; expected one of probe, switch',
    ],
    [
      'a driver option of the wrong type',
      KIT.replace('{ bus: 1 }', '{ bus: one }'),
      'kit.yaml:4: devices.0.options.bus: expected number, received string',
    ],
    [
      'an I2C bus the board lacks',
      KIT.replace('{ bus: 1 }', '{ bus: 7 }'),
      'kit.yaml:4: devices.0.options.bus: I2C bus 7 is not on board testboard (buses: 1)',
    ],
    [
      'a GPIO chip the board lacks',
      KIT.replace('chip: chip0, offset', 'chip: chipX, offset'),
      'kit.yaml:8: devices.1.options.line.chip: GPIO chip "chipX" is not on board testboard (chips: chip0)',
    ],
    [
      'a line beyond the chip',
      KIT.replace('offset: 17', 'offset: 40'),
      'kit.yaml:8: devices.1.options.line.offset: line 40 is beyond chip chip0, which has 32 lines',
    ],
    [
      'a bad device id',
      KIT.replace('id: heater', 'id: Heater'),
      'kit.yaml:5: devices.1.id: expected a lower-case id: letters, digits, _ and -',
    ],
    [
      'invalid YAML',
      KIT.replace('    driver: switch', '\tdriver: switch'),
      'kit.yaml:6: (document): invalid YAML:',
    ],
  ];
  it.each(cases)('%s', async (_name, kit, expected) => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\nwiring: kit.yaml\n', 'kit.yaml': kit });
    const e = await configError(loadIn(dir));
    expect(e.message).toContain(path.join(dir, expected));
  });

  it('a capability the board lacks', async () => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\nwiring: kit.yaml\n', 'kit.yaml': KIT });
    await writeFiles(dir, { 'boards/test.yaml': TEST_BOARD.replace('[i2c, gpio]', '[gpio]') });
    const e = await configError(loadIn(dir));
    expect(e.message).toBe(
      `${path.join(dir, 'kit.yaml')}:3: devices.0.driver: driver probe needs the "i2c" capability, which board testboard does not declare (capabilities: gpio)`,
    );
  });
});

describe('the simulated world (sim:) goes with the wiring', () => {
  const SIM = 'sim:\n  seed: 7\n  chamber: { heater: heater, sensor: chamber }\n';

  it('is read from the wiring file on a backend: sim board', async () => {
    const dir = await setup({
      'agent.yaml': 'board: boards/test.yaml\nwiring: kit.yaml\n',
      'kit.yaml': `${KIT}${SIM}`,
    });
    const loaded = await loadIn(dir);
    expect(loaded.sim).toMatchObject({ seed: 7, stepMs: 100, chamber: { heater: 'heater', tauS: 240 } });
  });

  it('has every default when no sim: is written', async () => {
    const dir = await setup({ 'agent.yaml': `board: boards/test.yaml\ndevices:\n${CHAMBER}` });
    expect((await loadIn(dir)).sim).toEqual({ seed: 1, stepMs: 100, devices: {}, faults: [] });
  });

  it('must name devices of the wiring', async () => {
    const dir = await setup({
      'agent.yaml': 'board: boards/test.yaml\nwiring: kit.yaml\n',
      'kit.yaml': `${KIT}${SIM.replace('heater: heater', 'heater: oven')}`,
    });
    const e = await configError(loadIn(dir));
    expect(e.message).toBe(
      `${path.join(dir, 'kit.yaml')}:11: sim.chamber.heater: no device "oven" in the wiring (devices: chamber, heater)`,
    );
  });

  it('is written once', async () => {
    const dir = await setup({
      'agent.yaml': `board: boards/test.yaml\nwiring: kit.yaml\nsim: { seed: 3 }\n`,
      'kit.yaml': `${KIT}${SIM}`,
    });
    const e = await configError(loadIn(dir));
    expect(e.message).toBe(
      `${path.join(dir, 'kit.yaml')}:9: sim: the simulated world is defined twice: first at ${path.join(dir, 'agent.yaml')}:3`,
    );
  });

  it('is refused on a board with real buses', async () => {
    const dir = await setup({
      'agent.yaml': 'board: boards/test.yaml\nwiring: kit.yaml\n',
      'kit.yaml': `${KIT}${SIM}`,
    });
    await writeFiles(dir, { 'boards/test.yaml': LINUX_BOARD });
    const e = await configError(loadIn(dir));
    expect(e.message).toBe(
      `${path.join(dir, 'kit.yaml')}:9: sim: only a board with backend: sim has a simulated world; board testboard is linux`,
    );
  });
});

describe('a board profile from before boards and wiring were split', () => {
  it('gets a migration message for devices: and sim:, at their lines', async () => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\n' });
    await writeFiles(dir, { 'boards/test.yaml': `${TEST_BOARD}${KIT}sim: { seed: 3 }\n` });
    const e = await configError(loadIn(dir));
    const board = path.join(dir, 'boards/test.yaml');
    expect(e.message.split('\n')).toEqual([
      `${board}:7: devices: devices belong in agent.yaml \`devices:\` or a wiring file (\`wiring:\` in agent.yaml) since board profiles describe only the board; move this list to a wiring file such as wiring/chamber-kit-<board>.yaml and name it in agent.yaml`,
      `${board}:15: sim: the simulated world belongs with the devices it simulates, in agent.yaml \`sim:\` or a wiring file, since board profiles describe only the board; move this section next to the \`devices:\` it names`,
    ]);
  });

  it('still reports its other mistakes with them', async () => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\n' });
    await writeFiles(dir, { 'boards/test.yaml': `${TEST_BOARD.replace('name: Test board\n', '')}${KIT}` });
    const e = await configError(loadIn(dir));
    expect(e.issues.map((i) => i.path)).toEqual(['devices', 'name']);
  });
});
