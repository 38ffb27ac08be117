/**
 * The agent itself (buildAgent on the simulated board, real clock, the built inference worker) taking
 * models from the fleet as a `kind: model` component: the provisioned model runs from the start, a
 * signed update is loaded beside it, proven and committed without a reboot, and updates that return
 * NaN, do not load or are too slow are rolled back live with the reason while the running model goes on — all
 * through the technician's commands (`ota.install`, `ota.status`, `models`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create as createTar } from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, buildAgent } from '../../../agent/build-agent.js';
import { loadConfig } from '../../../agent/config/load-config.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { publicKeyToPem } from '../../../agent/core/ed25519-keys.js';
import { hostPaths } from '../../../agent/core/host-paths.js';
import { silentLogger } from '../../../agent/core/log.js';
import { DRIVERS } from '../../../agent/hal/drivers/registry.js';
import type { ModelStatus } from '../../../agent/infer/model-state.js';
import { digestFile } from '../../../agent/ota/digest-file.js';
import { signManifest } from '../../../agent/ota/manifest.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { DIST_CODE_DIR, type TestModel, writeModel } from '../../support/onnx-models.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-model-agent-');
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

const as = { via: 'test' as const, who: 'tech' };
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
    const dir = await newDir();
    const keys = generateKeyPair();
    await writeFile(path.join(dir, 'fleet.pub.pem'), publicKeyToPem(keys.publicKey));
    await writeModel(path.join(dir, 'models/a'), 'mean', SHAPE);
    const configFile = path.join(dir, 'agent.yaml');
    await writeFile(
      configFile,
      JSON.stringify({
        version: 1,
        board: path.join(REPO_ROOT, 'boards/sim.yaml'),
        wiring: path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml'),
        stateDir: 'state',
        log: { level: 'silent' },
        console: { socket: { enabled: false } },
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
        ota: {
          trust: { keys: ['fleet.pub.pem'] },
          components: {
            'chamber-model': {
              kind: 'model',
              slots: { kind: 'dir', A: 'models/a', B: 'models/b' },
              live: { goodOutputs: 3, deadlineMs: 15_000 },
            },
          },
        },
      }),
    );
    const loaded = await loadConfig({
      configFile,
      env: {},
      paths: hostPaths({}),
      drivers: DRIVERS,
      boardsDir: path.join(REPO_ROOT, 'boards'),
    });
    const a = await buildAgent(loaded, {
      clock: new SystemClock(),
      log: silentLogger(),
      codeDir: DIST_CODE_DIR,
    });
    agent = a;
    await a.start();
    const models = async () =>
      ((await a.commands.execute('models', {}, as)) as { result: ModelStatus[] }).result[0]!;
    await eventually(async () => (await models()).good > 0, 'the provisioned model gives outputs', 15_000);
    expect((await models()).file).toContain(path.join('models', 'a'));

    let seq = 0;
    const install = async (kind: TestModel | 'empty') => {
      seq += 1;
      const src = path.join(dir, `bundle-${seq}`);
      if (kind === 'empty') await mkdir(src);
      else await writeModel(src, kind, SHAPE);
      const payload = path.join(dir, `state/ota/inbox/model-${seq}.tar`);
      await mkdir(path.dirname(payload), { recursive: true });
      await createTar({ file: payload, cwd: src, portable: true }, kind === 'empty' ? ['.'] : ['model.onnx']);
      const digest = await digestFile(payload);
      const manifest = {
        v: 1 as const,
        component: 'chamber-model',
        version: `2.${seq}.0`,
        seq,
        hw: ['sim'],
        size: digest.sizeBytes,
        sha256: digest.sha256,
        format: 'tar' as const,
      };
      await writeFile(`${payload}.cose`, signManifest(manifest, [keys]));
      expect(await a.commands.execute('ota.install', { file: payload }, as)).toMatchObject({ ok: true });
      await a.ota!.idle();
      return (await a.ota!.reports.pending()).at(-1);
    };

    expect(await install('mean')).toMatchObject({ state: 'committed', version: '2.1.0' });
    expect((await models()).file).toContain(path.join('models', 'b'));
    const status = (await a.commands.execute('ota.status', {}, as)) as { result: { rebootPending: boolean } };
    expect(status.result.rebootPending).toBe(false);

    const nan = await install('nan');
    expect(nan).toMatchObject({ state: 'rolled-back', version: '2.2.0', reason: 'health-check' });
    expect(nan?.message).toMatch(/output anomaly_score is NaN/);
    const after = (await models()).good;
    await eventually(async () => (await models()).good > after, 'the running model goes on', 10_000);
    expect((await models()).file).toContain(path.join('models', 'b'));

    const none = await install('empty');
    expect(none).toMatchObject({ state: 'rolled-back', version: '2.3.0', reason: 'load-failed' });
    expect(none?.message).toMatch(/model\.onnx cannot be read/);

    const slow = await install('slow');
    expect(slow).toMatchObject({ state: 'rolled-back', version: '2.4.0', reason: 'health-check' });
    expect(slow?.message).toMatch(/no result within timeoutMs 300/);
    expect((await models()).file).toContain(path.join('models', 'b'));
    const before = (await models()).good;
    await eventually(async () => (await models()).good > before, 'the running model still goes on', 10_000);
  });
});
