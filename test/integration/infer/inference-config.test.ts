/**
 * Inference as a technician configures it: an agent.yaml on the simulated board with an `inference:`
 * section, loaded and built as `edge-agent run` does (on a FakeClock; the model runs in the real
 * worker from dist/, in real time). The model's output is an ordinary point: the `points` command
 * shows it, an ordinary rule alarms on it; `models` says how the model is doing; mistakes in the
 * section are configuration errors naming file, line and field.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, buildAgent } from '../../../agent/build-agent.js';
import type { CommandContext } from '../../../agent/commands/registry.js';
import type { LoadedConfig } from '../../../agent/config/load-config.js';
import { ConfigError } from '../../../agent/core/errors.js';
import { silentLogger } from '../../../agent/core/log.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { FakeClock } from '../../support/fake-clock.js';
import { loadRepoConfig } from '../../support/load-repo-config.js';
import { DIST_CODE_DIR, writeModel } from '../../support/onnx-models.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-agent-infer-config-');
const SIM_BOARD = path.join(REPO_ROOT, 'boards/sim.yaml');
const SIM_WIRING = path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml');
const TECH: CommandContext = { via: 'test', who: 'tech' };

const config = (modelFile: string, outputPoint = 'chamber.mean') => `board: ${SIM_BOARD}
wiring: ${SIM_WIRING}
stateDir: state
telemetry: { enabled: false }
inference:
  models:
    - name: chamber-mean
      file: ${modelFile}
      runtime: onnx
      inputs: [chamber.temp, fan.state]
      window: { size: 5, everyMs: 1000, sampleMs: 200 }
      outputs: { anomaly_score: ${outputPoint} }
      timeoutMs: 5000
rules:
  - name: chamber-mean-high
    when: { point: chamber.mean, above: 5, hysteresis: 1 }
    forMs: 500
    actions:
      - alarm: { severity: major, message: chamber mean above 5 }
`;

let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

async function load(text: string): Promise<{ loaded: LoadedConfig; file: string; dir: string }> {
  const dir = await tempDir();
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, text);
  const loaded = await loadRepoConfig(file);
  return { loaded, file, dir };
}

async function start(text: string, model?: (dir: string) => Promise<unknown>) {
  const clock = new FakeClock();
  const { loaded, dir } = await load(text);
  await model?.(dir);
  agent = await buildAgent(loaded, { clock, log: silentLogger(), codeDir: DIST_CODE_DIR });
  await agent.start();
  await agent.inference?.loaded();
  return { clock, agent };
}

describe('an agent with an inference section', () => {
  it('shows the model output in points, alarms on it with an ordinary rule, and reports the model in models', async () => {
    const { clock, agent } = await start(config('models/model.onnx'), (dir) =>
      writeModel(path.join(dir, 'models'), 'mean', { size: 5, inputs: 2 }),
    );
    await clock.run(2000, 100);
    await until(() => agent.points.get('chamber.mean')?.quality === 'good', 'a good model output', 10_000);
    const temp = agent.points.goodValue('chamber.temp') as number;
    const points = (await agent.commands.execute('points', { prefix: 'chamber.mean' }, TECH)) as {
      ok: boolean;
      result: unknown;
    };
    expect(points).toMatchObject({
      ok: true,
      result: [{ name: 'chamber.mean', unit: '/', quality: 'good', writable: false }],
    });
    // The mean of the chamber temperature and the fan (on: 1), over the window.
    const value = (points.result as { value: number }[])[0]?.value ?? Number.NaN;
    expect(value).toBeGreaterThan((temp + 1) / 2 - 1);
    expect(value).toBeLessThan((temp + 1) / 2 + 1);

    await clock.run(1000, 100);
    expect(agent.alarms.list()).toMatchObject([
      {
        id: 'chamber-mean-high',
        state: 'active-unacked',
        severity: 'major',
        message: 'chamber mean above 5',
      },
    ]);
    const models = await agent.commands.execute('models', {}, TECH);
    expect(models).toMatchObject({
      ok: true,
      result: [{ name: 'chamber-mean', state: 'running', lastError: undefined }],
    });
  });

  it('runs everything else when the model file is missing: the model is faulted, the alarm and models say why', async () => {
    const { clock, agent } = await start(config('missing.onnx'));
    await clock.run(2000, 100);
    expect(agent.points.get('chamber.temp')?.quality).toBe('good');
    expect(agent.points.get('chamber.mean')?.quality).toBe('stale');
    const alarm = agent.alarms.list().find((a) => a.id === 'infer.chamber-mean');
    expect(alarm).toMatchObject({ severity: 'major', state: 'active-unacked' });
    expect(alarm?.message).toMatch(
      /^inference model chamber-mean: model file .*missing\.onnx cannot be read \(ENOENT\)$/,
    );
    const models = (await agent.commands.execute('models', {}, TECH)) as { result: { state: string }[] };
    expect(models.result[0]?.state).toBe('faulted');
  });
});

describe('a faulty inference section', () => {
  it('is a ConfigError naming the file, line and field', async () => {
    const text = config('mean.onnx', 'chamber.temp').replace(
      'inputs: [chamber.temp, fan.state]',
      'inputs: [chamber.tmp, fan.state]',
    );
    const { loaded, file } = await load(text);
    const error = await buildAgent(loaded, { clock: new FakeClock(), log: silentLogger() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const line = (fragment: string) => text.split('\n').findIndex((l) => l.includes(fragment)) + 1;
    expect((error as ConfigError).message).toBe(
      [
        `${file}:${line('inputs: [chamber.tmp')}: inference.models.0.inputs.0: model chamber-mean: unknown point chamber.tmp`,
        `${file}:${line('outputs: { anomaly_score')}: inference.models.0.outputs.anomaly_score: model chamber-mean: output point chamber.temp is already declared (by a device, a loop or the agent)`,
        // The rule's point is no model's output any more.
        `${file}:${line('when: { point: chamber.mean')}: rules.0.when.point: rule "chamber-mean-high": unknown point "chamber.mean"`,
      ].join('\n'),
    );
  });
});
