import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../agent/config/load-config.js';
import { hostPaths } from '../../../agent/core/host-paths.js';
import { configError, loadIn, TEST_BOARD, writeFiles } from '../../support/config-fixture.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs();

const BOARD = TEST_BOARD;
/** agent.yaml naming the test board, with the two devices inline. */
const WIRED = `board: boards/test.yaml
devices:
  - id: chamber
    driver: probe
    options: { bus: 1 }
  - id: heater
    driver: switch
    options:
      line: { chip: chip0, offset: 17 }
`;

async function setup(files: Record<string, string>) {
  const dir = await tempDir();
  await writeFiles(dir, files);
  return dir;
}
const load = loadIn;

describe('loadConfig', () => {
  it('applies defaults and resolves the board and state dir relative to the config file', async () => {
    const dir = await setup({
      'agent.yaml': `${WIRED}stateDir: var\n`,
      'boards/test.yaml': BOARD,
    });
    const loaded = await load(dir);
    expect(loaded.config.log).toEqual({ level: 'info', format: 'auto' });
    expect(loaded.stateDir).toBe(path.join(dir, 'var'));
    expect(loaded.board.profile.id).toBe('testboard');
    expect(loaded.devices.map((d) => d.options)).toEqual([
      { bus: 1, address: 0x76 },
      { line: { chip: 'chip0', offset: 17 } },
    ]);
    expect(Object.isFrozen(loaded.config.log)).toBe(true);
  });

  it('takes EDGE_AGENT_<PATH> overrides, camelCase fields in UPPER_SNAKE', async () => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\n', 'boards/test.yaml': BOARD });
    const loaded = await load(dir, {
      EDGE_AGENT_LOG_LEVEL: 'debug',
      EDGE_AGENT_POINTS_STALE_CHECK_MS: '250',
    });
    expect(loaded.config.log.level).toBe('debug');
    expect(loaded.config.points.staleCheckMs).toBe(250);
  });

  it('keeps the hawkBit token out of the file: EDGE_AGENT_OTA_HAWKBIT_AUTH_TARGET_TOKEN', async () => {
    const ota = [
      'ota:',
      '  trust: { keys: [fleet.pub.pem] }',
      '  hawkbit: { url: "https://hawkbit.example.com/", tenant: DEFAULT }',
      '  components:',
      '    rootfs:',
      '      slots: { kind: image, A: a.img, B: b.img, sizeBytes: 1048576 }',
      '      boot: { backend: file, file: boot.env }',
      '',
    ].join('\n');
    const dir = await setup({ 'agent.yaml': `board: boards/test.yaml\n${ota}`, 'boards/test.yaml': BOARD });
    const loaded = await load(dir, { EDGE_AGENT_OTA_HAWKBIT_AUTH_TARGET_TOKEN: 's3cret' });
    expect(loaded.config.ota?.hawkbit).toMatchObject({
      url: 'https://hawkbit.example.com',
      tenant: 'DEFAULT',
      auth: { targetToken: 's3cret' },
      pollMinS: 10,
    });
    const both = await configError(
      load(dir, {
        EDGE_AGENT_OTA_HAWKBIT_AUTH_TARGET_TOKEN: 'a',
        EDGE_AGENT_OTA_HAWKBIT_AUTH_GATEWAY_TOKEN: 'b',
      }),
    );
    expect(both.message).toContain('ota.hawkbit.auth: give targetToken or gatewayToken, not both');
  });

  it("gives an OTA component without boot: the board profile's boot backend, with its defaults", async () => {
    const ota = [
      'ota:',
      '  trust: { keys: [fleet.pub.pem] }',
      '  components:',
      '    rootfs:',
      '      slots: { kind: block, A: /dev/nvme0n1p1, B: /dev/nvme0n1p2 }',
      '    agent:',
      '      slots: { kind: dir, A: bundle/a, B: bundle/b }',
      '      boot: { backend: file, file: agent-boot.env }',
      '',
    ].join('\n');
    const dir = await setup({
      'agent.yaml': `board: boards/test.yaml\n${ota}`,
      'boards/test.yaml': `${BOARD}boot: { backend: jetson }\n`,
    });
    const loaded = await load(dir);
    expect(loaded.config.ota?.components.rootfs?.boot).toEqual({
      backend: 'jetson',
      nvbootctrl: 'nvbootctrl',
      retryCountMax: 3,
      confirm: 'verify',
    });
    expect(loaded.config.ota?.components.agent?.boot?.backend).toBe('file');

    // A board without a default: the component must name one.
    await writeFiles(dir, { 'boards/test.yaml': BOARD });
    const e = await configError(load(dir));
    expect(e.message).toContain(
      'ota.components.rootfs.boot: no boot backend: name one (boot: { backend: uboot',
    );
    expect(e.issues[0]?.line).toBe(5);
  });

  it('names an EDGE_AGENT_ variable that matches no field', async () => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\n', 'boards/test.yaml': BOARD });
    const e = await configError(load(dir, { EDGE_AGENT_LOG_LEVLE: 'debug' }));
    expect(e.message).toBe(
      'environment: (document): environment variable EDGE_AGENT_LOG_LEVLE names no configuration field',
    );
  });

  it('finds the default configuration under the host root when none is given', async () => {
    const dir = await setup({ 'etc/edge-agent/agent.yaml': 'board: /nonexistent.yaml\n' });
    const e = await configError(
      loadConfig({ env: {}, paths: hostPaths({ EDGE_AGENT_ROOT: dir }), drivers: [], boardsDir: dir }),
    );
    expect(e.message).toBe('/nonexistent.yaml: (document): cannot read: file not found');
  });

  it('detects the board from the device-tree model', async () => {
    const dir = await setup({
      'agent.yaml': '{}\n',
      'proc/device-tree/model': 'Raspberry Pi 4 Model B Rev 1.5\0',
      'boards/a.yaml': 'id: other\nmatches: [Jetson]\n',
      'boards/b.yaml': BOARD.replace('backend: sim', 'backend: sim\nmatches: [Raspberry Pi 4]'),
    });
    const loaded = await load(dir);
    expect(loaded.board.file).toBe(path.join(dir, 'boards/b.yaml'));
  });
});

describe('configuration errors name the file, the line, the field and what was expected', () => {
  const cases: [string, string, string][] = [
    [
      'a wrong type',
      'board: boards/test.yaml\nlog:\n  level: 3\n',
      "agent.yaml:3: log.level: expected one of 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent', received number",
    ],
    [
      'an unknown field',
      'board: boards/test.yaml\nlog:\n  levl: info\n',
      'agent.yaml:3: log.levl: unknown field "levl"',
    ],
    [
      'a number out of range',
      'board: boards/test.yaml\npoints:\n  staleCheckMs: 5\n',
      'agent.yaml:3: points.staleCheckMs: expected a number >= 50',
    ],
    [
      'invalid YAML (a tab indent)',
      'board: boards/test.yaml\nlog:\n\tlevel: info\n',
      'agent.yaml:3: (document): invalid YAML:',
    ],
    [
      'a bad device id',
      'board: boards/test.yaml\ndeviceId: "has space"\n',
      'agent.yaml:2: deviceId: expected 1–64 characters of A–Z a–z 0–9 . _ -',
    ],
    [
      'a wrong version',
      'version: 2\nboard: boards/test.yaml\n',
      'agent.yaml:1: version: expected 1 (the only configuration version so far)',
    ],
  ];
  it.each(cases)('%s', async (_name, text, expected) => {
    const dir = await setup({ 'agent.yaml': text, 'boards/test.yaml': BOARD });
    const e = await configError(load(dir));
    expect(e.message).toContain(path.join(dir, expected));
  });

  const boardCases: [string, string, string][] = [
    [
      'a missing required field',
      BOARD.replace('name: Test board\n', ''),
      'test.yaml:1: name: required field is missing (expected string)',
    ],
    [
      'a backend it does not know',
      BOARD.replace('backend: sim', 'backend: qemu'),
      `test.yaml:3: backend: expected one of "linux" | "sim", received "qemu"`,
    ],
  ];
  it.each(boardCases)('in a board profile: %s', async (_name, board, expected) => {
    const dir = await setup({ 'agent.yaml': 'board: boards/test.yaml\n', 'boards/test.yaml': board });
    const e = await configError(load(dir));
    expect(e.message).toContain(path.join(dir, 'boards', expected));
  });

  it('reports a missing configuration file by name', async () => {
    const dir = await setup({});
    const e = await configError(load(dir, {}, { configFile: path.join(dir, 'missing.yaml') }));
    expect(e.message).toBe(`${path.join(dir, 'missing.yaml')}: (document): cannot read: file not found`);
  });

  it('says how to name a board when none is given or detected', async () => {
    const dir = await setup({ 'agent.yaml': 'log: { level: info }\n' });
    const e = await configError(load(dir));
    expect(e.message).toMatch(
      /board: no board profile: give --board FILE or set "board" in the configuration/,
    );
  });
});
