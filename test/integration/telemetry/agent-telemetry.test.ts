/**
 * The built agent on the simulated board, as a user runs it: without a broker it only buffers; with
 * `link.url` (here from the environment) its readings reach a backend as SenML, its status is
 * retained online, and SIGTERM flushes the outbox and leaves the status offline.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decode } from 'cbor-x';
import { connect } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { AgentProcess, REPO_ROOT } from '../../support/agent-process.js';
import { cleanupsAfterEach } from '../../support/cleanups.js';
import { Mosquitto } from '../../support/mosquitto.js';
import { TelemetryBackend } from '../../support/telemetry-backend.js';
import { until } from '../../support/until.js';

const SIM_BOARD = path.join(REPO_ROOT, 'boards/sim.yaml');
const SIM_WIRING = path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml');
const cleanups = cleanupsAfterEach();

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-agent-telemetry-'));
  cleanups.add('rm', () => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, text);
  return file;
}

const CONFIG = `board: ${SIM_BOARD}
wiring: ${SIM_WIRING}
stateDir: state
deviceId: gw-sim
telemetry: { timeTrust: system, batchMaxAgeMs: 200 }
`;

describe('edge-agent telemetry', () => {
  it('buffers readings on disk when no broker is configured, and keeps them across a restart', async () => {
    const config = await configFile(CONFIG);
    // Every reading is logged at debug: the test waits for readings, not for a span of time.
    const agent = new AgentProcess(['run', '--config', config], { EDGE_AGENT_LOG_LEVEL: 'debug' });
    cleanups.add('agent.kill', async () => void agent.kill('SIGKILL'));
    const open = await agent.waitFor((r) => r.msg === 'telemetry outbox open', 10_000, 'the outbox');
    expect(open).toMatchObject({ batches: 0, quarantined: 0, clockTrusted: true });
    await agent.waitFor((r) => r.msg === 'edge-agent running', 10_000, 'start');
    // The stop's last group commit writes whatever was read before SIGTERM.
    await until(() => agent.records.filter((r) => r.msg === 'reading').length > 60, 'readings', 20_000);
    agent.kill('SIGTERM');
    expect((await agent.exited).code).toBe(143);
    expect(agent.stderr).toBe('');
    const again = new AgentProcess(['run', '--config', config]);
    cleanups.add('again.kill', async () => void again.kill('SIGKILL'));
    const reopened = await again.waitFor((r) => r.msg === 'telemetry outbox open', 10_000, 'the outbox');
    expect(reopened.items as number).toBeGreaterThan(10);
    expect(reopened.boot as string).toMatch(/^00000002-/);
  });

  it('sends SenML to the broker named by EDGE_AGENT_LINK_URL and goes offline on SIGTERM', async () => {
    const broker = await Mosquitto.start();
    cleanups.add('broker.stop', () => broker.stop());
    const backend = await TelemetryBackend.connect(broker.url, { clientId: 'backend-agent' });
    cleanups.add('backend.close', () => backend.close());
    const agent = new AgentProcess(['run', '--config', await configFile(CONFIG)], {
      EDGE_AGENT_LINK_URL: broker.url,
    });
    cleanups.add('agent.kill', async () => void agent.kill('SIGKILL'));
    await agent.waitFor((r) => r.msg === 'link up', 10_000, 'the link');
    await until(
      () => backend.readings.some((r) => r.n === 'urn:dev:gw-sim:chamber.temp'),
      'a reading',
      15_000,
    );
    const temp = backend.readings.find((r) => r.n === 'urn:dev:gw-sim:chamber.temp');
    expect(temp).toMatchObject({ u: 'Cel' });
    expect(Math.abs((temp?.t ?? 0) - Date.now() / 1000)).toBeLessThan(10);
    expect(backend.readings.some((r) => r.n.startsWith('urn:dev:gw-sim:telemetry.'))).toBe(false);
    expect(backend.invalid).toEqual([]);

    agent.kill('SIGTERM');
    expect((await agent.exited).code).toBe(143);
    const status = await connect(broker.url, { protocolVersion: 5 });
    cleanups.add('status.end', () => status.endAsync(true));
    const retained = new Promise<Buffer>((resolve) =>
      status.on('message', (_t, payload) => resolve(payload)),
    );
    await status.subscribeAsync('edge/gw-sim/status');
    expect(decode(await retained)).toMatchObject({ state: 'offline' });
  });
});
