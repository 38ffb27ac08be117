/**
 * The agent as a user runs it: the built CLI on boards/sim.yaml with the chamber kit
 * (wiring/chamber-kit-sim.yaml), as a child process. Every simulated sensor must report, and SIGTERM
 * must leave every relay in its safe state (seen on the simulated wire, as a logic probe would) before
 * the process exits with 143.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, type LogRecord, REPO_ROOT } from '../support/agent-process.js';

const SIM_BOARD = path.join(REPO_ROOT, 'boards/sim.yaml');
const SIM_WIRING = path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml');
const EXPECTED_SENSORS = [
  'air.pm10',
  'air.pm1_0',
  'air.pm2_5',
  'chamber.humidity',
  'chamber.pressure',
  'chamber.temp',
  'coolant.rate',
  'coolant.total',
  'door.state',
  'outdoor.battery',
  'outdoor.humidity',
  'outdoor.temperature',
];

let agent: AgentProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  agent?.kill('SIGKILL');
  agent = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function configFile(text: string): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), 'edge-agent-it-'));
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, text);
  return file;
}

describe('edge-agent run on the simulated board', () => {
  it('reports every sensor, then on SIGTERM puts the relays in their safe state and exits 143', async () => {
    const config = await configFile(
      `board: ${SIM_BOARD}\nwiring: ${SIM_WIRING}\nstateDir: state\nlog: { level: debug }\n`,
    );
    agent = new AgentProcess(['run', '--config', config]);
    const running = await agent.waitFor((r) => r.msg === 'edge-agent running', 10_000, 'start');
    expect([...(running.sensors as string[])].sort()).toEqual(EXPECTED_SENSORS);
    for (const point of EXPECTED_SENSORS) {
      await agent.waitFor((r) => r.msg === 'reading' && r.point === point, 10_000, `a reading of ${point}`);
    }
    // The fan starts on; the heater stays at its safe state (off) with no loop driving it.
    await agent.waitFor((r) => r.msg === 'sim output' && r.device === 'fan' && r.value === 1, 5000, 'fan on');

    agent.kill('SIGTERM');
    const { code } = await agent.exited;
    expect(code).toBe(143);
    const stopAt = agent.records.findIndex((r) => r.msg === 'stopping');
    expect(stopAt).toBeGreaterThan(0);
    const after = agent.records.slice(stopAt);
    const lastLevel = (device: string) =>
      after.filter((r: LogRecord) => r.msg === 'sim output' && r.device === device).at(-1)?.value;
    expect(lastLevel('fan')).toBe(0);
    expect(lastLevel('heater')).toBe(0);
    expect(after.some((r) => r.msg === 'stopped')).toBe(true);
    expect(agent.stderr).toBe('');
  });

  it('stops as cleanly when SIGTERM comes while the rest of the agent is still loading', async () => {
    // The devices and loops start first; telemetry, OTA, attestation and the console load around them.
    const config = await configFile(
      `board: ${SIM_BOARD}\nwiring: ${SIM_WIRING}\nstateDir: state\nlog: { level: debug }\n`,
    );
    agent = new AgentProcess(['run', '--config', config]);
    await agent.waitFor(
      (r) => r.msg === 'sim output' && r.device === 'fan' && r.value === 1,
      10_000,
      'fan on',
    );
    agent.kill('SIGTERM');
    const { code } = await agent.exited;
    expect(code).toBe(143);
    const after = agent.records.slice(agent.records.findIndex((r) => r.msg === 'stopping'));
    expect(after.filter((r) => r.msg === 'sim output' && r.device === 'fan').at(-1)?.value).toBe(0);
    expect(after.some((r) => r.msg === 'stopped')).toBe(true);
    expect(
      agent.records.some(
        (r) =>
          r.msg === 'edge-agent running' && agent!.records.indexOf(r) > agent!.records.indexOf(after[0]!),
      ),
    ).toBe(false);
    expect(agent.stderr).toBe('');
  });

  it('exits 78 with the file, line, field and expectation for a bad configuration, no stack trace', async () => {
    const config = await configFile(`board: ${SIM_BOARD}\nlog:\n  level: loud\n`);
    agent = new AgentProcess(['run', '--config', config]);
    const { code } = await agent.exited;
    expect(code).toBe(78);
    expect(agent.stderr).toContain(`${config}:3: log.level: expected one of`);
    expect(agent.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints its version and help', async () => {
    agent = new AgentProcess(['--version']);
    expect((await agent.exited).code).toBe(0);
    const help = new AgentProcess(['run', '--help']);
    expect((await help.exited).code).toBe(0);
    expect(help.records.map((r) => r.msg).join('\n')).toContain('--board <file>');
  });
});
