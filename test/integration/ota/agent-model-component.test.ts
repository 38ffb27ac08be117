/**
 * The agent itself (buildAgent on the simulated board, real clock, the built inference worker) taking
 * models from the fleet as a `kind: model` component: the provisioned model runs from the start, a
 * signed update is loaded beside it, proven and committed without a reboot, and updates that return
 * NaN, do not load or are too slow are rolled back live with the reason while the running model goes on — all
 * through the technician's commands (`ota.install`, `ota.status`, `models`).
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../../agent/build-agent.js';
import type { ModelStatus } from '../../../agent/infer/model-state.js';
import { TECH as as, startLiveComponentAgent } from '../../support/live-component-agent.js';
import { DIST_CODE_DIR, type TestModel, writeModel } from '../../support/onnx-models.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-model-agent-');
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

const SHAPE = { size: 4, inputs: 1 };

/** Polls an async `test` every 50 ms until it holds; fails naming `what` after `timeoutMs`. */
async function eventually(test: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  for (let t = 0; t < timeoutMs; t += 50) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('models from the fleet on the agent', () => {
  it('runs the provisioned model, switches a signed update live, rolls back one that gives NaN, one that does not load and one too slow', async () => {
    const { agent: a, install: installFiles } = await startLiveComponentAgent({
      dir: await newDir(),
      component: 'chamber-model',
      kind: 'model',
      provision: async (slotA) => void (await writeModel(slotA, 'mean', SHAPE)),
      codeDir: DIST_CODE_DIR,
      config: {
        inference: {
          models: [
            {
              name: 'chamber-model',
              component: 'chamber-model',
              runtime: 'onnx',
              inputs: ['chamber.temp'],
              window: { size: SHAPE.size, everyMs: 200, sampleMs: 50 },
              outputs: { anomaly_score: 'chamber.score' },
              timeoutMs: 300,
            },
          ],
        },
      },
    });
    agent = a;
    const models = async () =>
      ((await a.commands.execute('models', {}, as)) as { result: ModelStatus[] }).result[0]!;
    await eventually(async () => (await models()).good > 0, 'the provisioned model gives outputs', 15_000);
    expect((await models()).file).toContain(path.join('models', 'a'));

    const install = (kind: TestModel | 'empty') =>
      installFiles(async (dir) => {
        if (kind === 'empty') return [];
        await writeModel(dir, kind, SHAPE);
        return ['model.onnx'];
      });

    expect(await install('mean')).toMatchObject({ state: 'committed', version: '1.1.0' });
    expect((await models()).file).toContain(path.join('models', 'b'));
    const status = (await a.commands.execute('ota.status', {}, as)) as { result: { rebootPending: boolean } };
    expect(status.result.rebootPending).toBe(false);

    const nan = await install('nan');
    expect(nan).toMatchObject({ state: 'rolled-back', version: '1.2.0', reason: 'health-check' });
    expect(nan?.message).toMatch(/output anomaly_score is NaN/);
    const after = (await models()).good;
    await eventually(async () => (await models()).good > after, 'the running model goes on', 10_000);
    expect((await models()).file).toContain(path.join('models', 'b'));

    const none = await install('empty');
    expect(none).toMatchObject({ state: 'rolled-back', version: '1.3.0', reason: 'load-failed' });
    expect(none?.message).toMatch(/model\.onnx cannot be read/);

    const slow = await install('slow');
    expect(slow).toMatchObject({ state: 'rolled-back', version: '1.4.0', reason: 'health-check' });
    expect(slow?.message).toMatch(/no result within timeoutMs 300/);
    expect((await models()).file).toContain(path.join('models', 'b'));
    const before = (await models()).good;
    await eventually(async () => (await models()).good > before, 'the running model still goes on', 10_000);
  });
});
