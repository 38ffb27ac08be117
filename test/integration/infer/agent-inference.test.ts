/**
 * The built agent (dist/agent/main.js) as a child process on the simulated board with a model
 * configured: its output reaches the broker as SenML like any reading (mosquitto and a backend); and
 * with `onnxruntime-node` made unresolvable by a module hook (test/support/no-onnxruntime.mjs, as on a
 * machine where the optional package was not installed), the agent still starts and runs its devices,
 * and says — in its log and as an alarm — which package is missing and how to install it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentProcess, REPO_ROOT } from '../../support/agent-process.js';
import { cleanupsAfterEach } from '../../support/cleanups.js';
import { Mosquitto } from '../../support/mosquitto.js';
import { writeModel } from '../../support/onnx-models.js';
import { TelemetryBackend } from '../../support/telemetry-backend.js';
import { until } from '../../support/until.js';

const SIM_BOARD = path.join(REPO_ROOT, 'boards/sim.yaml');
const SIM_WIRING = path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml');
const NO_RUNTIME = path.join(REPO_ROOT, 'test/support/no-onnxruntime.mjs');
const MISSING =
  'inference model chamber-mean: the ONNX runtime is not installed (npm package onnxruntime-node, an optional dependency: npm install onnxruntime-node)';
const cleanups = cleanupsAfterEach();

async function configFile(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-agent-inference-'));
  cleanups.add('rm', () => rm(dir, { recursive: true, force: true }));
  await writeModel(path.join(dir, 'models'), 'mean', { size: 5, inputs: 2 });
  const file = path.join(dir, 'agent.yaml');
  await writeFile(
    file,
    `board: ${SIM_BOARD}
wiring: ${SIM_WIRING}
stateDir: state
deviceId: gw-infer
telemetry: { timeTrust: system, batchMaxAgeMs: 200 }
inference:
  models:
    - name: chamber-mean
      file: models/model.onnx
      runtime: onnx
      inputs: [chamber.temp, fan.state]
      window: { size: 5, everyMs: 1000, sampleMs: 200 }
      outputs: { anomaly_score: chamber.mean }
`,
  );
  return file;
}

describe('edge-agent run with an inference model', () => {
  it('sends the model output to the broker as a reading like any other', async () => {
    const broker = await Mosquitto.start();
    cleanups.add('broker.stop', () => broker.stop());
    const backend = await TelemetryBackend.connect(broker.url, { clientId: 'backend-infer' });
    cleanups.add('backend.close', () => backend.close());
    const agent = new AgentProcess(['run', '--config', await configFile()], {
      EDGE_AGENT_LINK_URL: broker.url,
    });
    cleanups.add('agent.kill', async () => void agent.kill('SIGKILL'));
    await agent.waitFor((r) => r.msg === 'model loaded' && r.model === 'chamber-mean', 15_000, 'the model');
    await until(
      () => backend.readings.some((r) => r.n === 'urn:dev:gw-infer:chamber.mean'),
      'a reading of the model output',
      20_000,
    );
    const reading = backend.readings.find((r) => r.n === 'urn:dev:gw-infer:chamber.mean');
    expect(reading).toMatchObject({ u: '/' });
    expect(reading?.v).toBeGreaterThan(5); // (≈21 °C + fan on) / 2
    agent.kill('SIGTERM');
    expect((await agent.exited).code).toBe(143);
    expect(agent.stderr).toBe('');
  });

  it('runs without onnxruntime-node installed, the model faulted naming the package and the install command', async () => {
    const agent = new AgentProcess(['run', '--config', await configFile()], {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${NO_RUNTIME}`.trim(),
      EDGE_AGENT_LOG_LEVEL: 'debug',
    });
    cleanups.add('agent.kill', async () => void agent.kill('SIGKILL'));
    const faulted = await agent.waitFor((r) => r.msg === 'inference model faulted', 15_000, 'the fault');
    expect(faulted).toMatchObject({ level: 'error', model: 'chamber-mean', error: MISSING });
    const alarm = await agent.waitFor(
      (r) => r.msg === 'alarm' && r.alarm === 'infer.chamber-mean',
      5000,
      'alarm',
    );
    expect(alarm).toMatchObject({ severity: 'major', message: MISSING });
    await agent.waitFor((r) => r.msg === 'edge-agent running', 15_000, 'start');
    // Everything else runs: the devices are read.
    for (const point of ['chamber.temp', 'door.state']) {
      await agent.waitFor((r) => r.msg === 'reading' && r.point === point, 10_000, `a reading of ${point}`);
    }
    agent.kill('SIGTERM');
    expect((await agent.exited).code).toBe(143);
    expect(agent.stderr).toBe('');
  });
});
