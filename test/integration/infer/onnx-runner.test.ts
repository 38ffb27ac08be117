/**
 * The ONNX runner for real: the built worker entry (dist/agent/infer/onnx-worker-main.js, checked
 * fresh by test/support/check-build.ts) running onnxruntime-node on models written by
 * scripts/model/onnx-writer.ts. Real time on the SystemClock: the worker's runs take what they take;
 * the slow model is ten times over its budget so the verdicts hold on a loaded machine.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { OnnxRunner } from '../../../agent/infer/onnx-runner.js';
import { WORKER_ENTRY, writeModel } from '../../support/onnx-models.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-agent-infer-');
const SHAPE = { size: 4, inputs: 3 };
const DIMS = [1, 4, 3];

const runners: OnnxRunner[] = [];
afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
});

function runner(stuckAfterMs?: number): OnnxRunner {
  const r = new OnnxRunner(
    { clock: new SystemClock(), log: silentLogger() },
    { workerEntry: WORKER_ENTRY, ...(stuckAfterMs ? { stuckAfterMs } : {}) },
  );
  runners.push(r);
  return r;
}

const windowOf = (value: number) => new Float32Array(12).fill(value);
const run = (r: OnnxRunner, session: string, window: Float32Array, timeoutMs = 5000) =>
  r.run({ session, window, dims: DIMS, outputs: ['anomaly_score'], timeoutMs });

describe('OnnxRunner', () => {
  it('starts no worker until a model is loaded', async () => {
    const r = runner();
    expect(r.running).toBe(false);
    await r.load('m@1', await writeModel(await tempDir(), 'mean', SHAPE));
    expect(r.running).toBe(true);
  });

  it('loads a model, reports its tensors, and runs it on a window it transfers to the worker', async () => {
    const r = runner();
    const loaded = await r.load('m@1', await writeModel(await tempDir(), 'mean', SHAPE));
    expect(loaded).toEqual({
      ok: true,
      inputs: [{ name: 'window', dims: [1, 4, 3] }],
      outputs: [{ name: 'anomaly_score', dims: [1] }],
    });
    const window = windowOf(2.5);
    const result = await run(r, 'm@1', window);
    expect(result).toMatchObject({ ok: true, values: { anomaly_score: 2.5 } });
    expect(window.byteLength).toBe(0); // transferred, not copied
  });

  it('passes NaN on as a value (the engine judges it)', async () => {
    const r = runner();
    await r.load('n@1', await writeModel(await tempDir(), 'nan', SHAPE));
    const result = await run(r, 'n@1', windowOf(1));
    expect(result.ok && Number.isNaN(result.values.anomaly_score)).toBe(true);
  });

  it('reports a run that fails in the runtime as threw, with its message', async () => {
    const r = runner();
    await r.load('t@1', await writeModel(await tempDir(), 'throws', SHAPE));
    const result = await run(r, 't@1', windowOf(1));
    expect(result).toMatchObject({ ok: false, reason: 'threw' });
    expect(!result.ok && result.message).toMatch(/MatMul/);
  });

  it('refuses a file that is not a model, naming why', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'model.onnx');
    await (await import('node:fs/promises')).writeFile(file, 'not a model');
    const loaded = await runner().load('x@1', file);
    expect(loaded).toMatchObject({ ok: false, code: 'load-failed' });
  });

  it('answers late when a run exceeds timeoutMs, and the worker keeps serving', async () => {
    const r = runner();
    await r.load('slow@1', await writeModel(await tempDir(), 'slow', SHAPE));
    await r.load('mean@1', await writeModel(await tempDir(), 'mean', SHAPE));
    const result = await run(r, 'slow@1', windowOf(1), 20);
    expect(result).toMatchObject({ ok: false, reason: 'late' });
    expect(await run(r, 'mean@1', windowOf(3))).toMatchObject({ ok: true, values: { anomaly_score: 3 } });
    expect(r.restarts).toBe(0);
    expect(r.threads).toBe(1);
  });

  it('replaces a stuck worker and loads every session again in the new one', async () => {
    const r = runner(1000);
    await r.load('slow@1', await writeModel(await tempDir(), 'slow', { ...SHAPE, matmuls: 120 }));
    await r.load('mean@1', await writeModel(await tempDir(), 'mean', SHAPE));
    expect(await run(r, 'slow@1', windowOf(1), 20)).toMatchObject({ ok: false, reason: 'late' });
    await until(() => r.restarts === 1, 'the stuck worker to be replaced');
    // The mean model answers from the new worker while the old one may still be in its native run.
    const again = await run(r, 'mean@1', windowOf(4));
    expect(again).toMatchObject({ ok: true, values: { anomaly_score: 4 } });
    // The stuck one is retired, not terminated mid-run (which aborts the process): it exits after its run.
    await r.stop();
    expect(r.threads).toBe(0);
  });

  it('stops during a long run by letting it finish: the process is not aborted', async () => {
    const r = runner();
    await r.load('slow@1', await writeModel(await tempDir(), 'slow', SHAPE));
    const result = run(r, 'slow@1', windowOf(1), 20);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the worker is inside the native run now
    await r.stop();
    expect(r.threads).toBe(0);
    expect(await result).toMatchObject({ ok: false });
  });

  it('fails a run of an unknown session without harm', async () => {
    const r = runner();
    await r.load('m@1', await writeModel(await tempDir(), 'mean', SHAPE));
    expect(await run(r, 'other@1', windowOf(1))).toMatchObject({ ok: false, reason: 'threw' });
    await r.unload('m@1');
    expect(await run(r, 'm@1', windowOf(1))).toMatchObject({ ok: false, reason: 'threw' });
  });
});
