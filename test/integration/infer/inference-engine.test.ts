/**
 * The inference engine on real models in the real worker (the built dist/agent/infer/
 * onnx-worker-main.js running onnxruntime-node): the engine's schedule — sampling, windows, runs — on
 * a FakeClock the test steps; the worker's run time is real, so the test waits for results by
 * polling (test/support/until.ts). Everything is observed through the point table, the alarm list,
 * `status()` and `activate()`'s result.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmManager } from '../../../agent/control/alarms.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { PointTable } from '../../../agent/core/points.js';
import { type ModelConfig, modelSchema } from '../../../agent/infer/infer-schema.js';
import { InferenceEngine, type ModelStatus } from '../../../agent/infer/inference-engine.js';
import { OnnxRunner, type RunRequest } from '../../../agent/infer/onnx-runner.js';
import { FakeClock } from '../../support/fake-clock.js';
import { type TestModel, WORKER_ENTRY, writeModel } from '../../support/onnx-models.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-agent-infer-');
const SHAPE = { size: 3, inputs: 2 };
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Harness {
  clock: FakeClock;
  points: PointTable;
  alarms: AlarmManager;
  engine: InferenceEngine;
  /** Sessions the runner was asked to unload, in order. */
  unloaded: string[];
  status(): ModelStatus;
  /** Sets both inputs, then steps the clock one run period (10 samples, one run). */
  period(a: number, b?: number): Promise<void>;
  /** Waits for the worker's answers until `n` runs have been judged. */
  judged(n: number): Promise<void>;
  dir(): Promise<string>;
}

async function harness(kind: TestModel, config: Partial<Record<string, unknown>> = {}): Promise<Harness> {
  const clock = new FakeClock();
  const points = new PointTable({ clock });
  points.declare({ name: 'in.a', unit: 'Cel' });
  points.declare({ name: 'in.b' });
  const alarms = new AlarmManager({ clock });
  const runner = new OnnxRunner(
    { clock: new SystemClock(), log: silentLogger() },
    { workerEntry: WORKER_ENTRY },
  );
  const unloaded: string[] = [];
  // The real runner, seen from outside: which sessions the engine releases.
  const observed = {
    prepare: () => runner.prepare(),
    load: (s: string, f: string) => runner.load(s, f),
    run: (r: RunRequest) => runner.run(r),
    unload: (s: string) => {
      unloaded.push(s);
      return runner.unload(s);
    },
    stop: () => runner.stop(),
  };
  const file = await writeModel(await tempDir(), kind, SHAPE);
  const model: ModelConfig = modelSchema.parse({
    name: 'm',
    file,
    runtime: 'onnx',
    inputs: ['in.a', 'in.b'],
    window: { size: 3, everyMs: 1000, sampleMs: 100 },
    outputs: { anomaly_score: 'm.score' },
    timeoutMs: 400,
    ...config,
  });
  const engine = new InferenceEngine(
    { clock, log: silentLogger(), points, alarms, runner: observed, modelFile: async (m) => m.file ?? '' },
    [model],
  );
  engine.declarePoints();
  await engine.start();
  await engine.loaded();
  stops.push(() => engine.stop());
  const status = () => engine.status()[0] as ModelStatus;
  return {
    clock,
    points,
    alarms,
    engine,
    unloaded,
    status,
    async period(a, b = 1) {
      points.update('in.a', a, 'test');
      points.update('in.b', b, 'test');
      await clock.advance(1000);
    },
    judged: (n) =>
      until(
        () => status().good + status().failed >= n,
        `${n} judged runs`,
        15_000,
        () => status(),
      ),
    dir: tempDir,
  };
}

describe('InferenceEngine', () => {
  it("writes the mean model's result as a good point with its unit and source, once the window is full", async () => {
    const h = await harness('mean');
    expect(h.status()).toMatchObject({ state: 'running', runs: 0 });
    expect(h.points.get('m.score')).toMatchObject({ quality: 'stale', unit: '/', value: undefined });
    await h.period(4, 2);
    await h.judged(1);
    expect(h.points.get('m.score')).toMatchObject({ value: 3, quality: 'good', source: 'model:m' });
    expect(h.status()).toMatchObject({ good: 1, failed: 0, lastError: undefined });
    expect(h.alarms.list()).toEqual([]);
  });

  it.each([
    ['nan', {}, /output anomaly_score is NaN/],
    ['throws', {}, /MatMul/],
    ['slow', { timeoutMs: 20 }, /no result within timeoutMs 20/],
  ] as const)(
    'marks the outputs stale and raises infer.m when the model is %s',
    async (kind, config, why) => {
      const h = await harness(kind, config);
      await h.period(4);
      await h.judged(1);
      expect(h.points.get('m.score')?.quality).toBe('stale');
      expect(h.status().lastError).toMatch(why);
      expect(h.alarms.list()).toMatchObject([{ id: 'infer.m', severity: 'minor', source: 'model:m' }]);
      expect(h.alarms.list()[0]?.message).toMatch(why);
    },
  );

  it('marks the outputs stale at once when an input is not good, and runs again only on a refilled window', async () => {
    const h = await harness('mean');
    await h.period(2);
    await h.judged(1);
    expect(h.points.get('m.score')?.quality).toBe('good');
    h.points.setQuality('in.b', 'fault');
    await h.clock.advance(100);
    expect(h.points.get('m.score')?.quality).toBe('stale');
    expect(h.status().lastError).toMatch(/input in\.b is fault/);
    await h.clock.advance(2000);
    expect(h.status().runs).toBe(1); // no run on a window with a hole
    expect(h.alarms.list()).toEqual([]); // an input's fault is its device's alarm, not the model's
    h.points.update('in.b', 1, 'test');
    await h.clock.advance(200); // two samples: not a full window yet
    expect(h.status().runs).toBe(1);
    await h.period(2);
    await h.judged(2);
    expect(h.points.get('m.score')).toMatchObject({ value: 1.5, quality: 'good' });
  });

  it('faults a model whose file does not fit its configuration, naming the shapes', async () => {
    const h = await harness('mean', { window: { size: 5, everyMs: 1000, sampleMs: 100 } });
    expect(h.status().state).toBe('faulted');
    expect(h.status().lastError).toMatch(
      /inference model m: .*model\.onnx: its input window is \[1, 3, 2\], the configuration gives \[1, 5, 2\]/,
    );
    expect(h.alarms.list()).toMatchObject([{ id: 'infer.m', severity: 'major' }]);
  });

  it('faults a model whose file is missing', async () => {
    const h = await harness('mean', { file: '/nonexistent/model.onnx' });
    expect(h.status()).toMatchObject({ state: 'faulted' });
    expect(h.status().lastError).toBe(
      'inference model m: model file /nonexistent/model.onnx cannot be read (ENOENT)',
    );
  });
});

describe('InferenceEngine.activate (live swap)', () => {
  it('switches to a good model, keeps the old one until it has proven itself, then releases it', async () => {
    const h = await harness('mean');
    await h.period(2);
    await h.judged(1);
    const dir = await h.dir();
    await writeModel(dir, 'log', SHAPE);
    const activation = h.engine.activate('m', dir, { goodOutputs: 2, deadlineMs: 60_000 });
    await until(() => h.status().activation !== undefined, 'the switch');
    expect(h.unloaded).toEqual([]);
    await h.period(Math.E * 2 - 1); // mean e: log 1
    await h.judged(2);
    expect(h.points.get('m.score')?.value).toBeCloseTo(1, 5); // the new model's output
    expect(h.unloaded).toEqual([]); // one good result of two: the old one is still loaded
    await h.period(Math.E * 2 - 1);
    expect(await activation).toEqual({ ok: true });
    expect(h.unloaded).toEqual(['m@1']);
    expect(h.status()).toMatchObject({ state: 'running', activation: undefined });
    expect(h.status().file).toBe(`${dir}/model.onnx`);
  });

  it('switches back when the new model gives NaN before it has proven itself; the old one answers that window', async () => {
    const h = await harness('mean');
    await h.period(2);
    await h.judged(1);
    const dir = await h.dir();
    await writeModel(dir, 'log', SHAPE);
    const activation = h.engine.activate('m', dir, { goodOutputs: 3, deadlineMs: 60_000 });
    await until(() => h.status().activation !== undefined, 'the switch');
    await h.period(-5); // mean −2: log gives NaN
    const result = await activation;
    expect(result).toMatchObject({ ok: false, reason: 'bad-output' });
    expect(!result.ok && result.message).toMatch(
      /model m: the new model failed: output anomaly_score is NaN/,
    );
    expect(h.unloaded).toEqual(['m@2']);
    await until(() => h.points.get('m.score')?.value === -2, 'the old model on the same window');
    expect(h.points.get('m.score')?.quality).toBe('good');
  });

  it.each([
    ['nan', /output anomaly_score is NaN/],
    ['throws', /MatMul/],
    ['slow', /no result within timeoutMs 400/],
  ] as const)('refuses a %s model at its health check, before any switch', async (kind, why) => {
    const h = await harness('mean');
    await h.period(2);
    await h.judged(1);
    const dir = await h.dir();
    await writeModel(dir, kind, { ...SHAPE, matmuls: 60 });
    const result = await h.engine.activate('m', dir, { goodOutputs: 1, deadlineMs: 60_000 });
    expect(result).toMatchObject({ ok: false, reason: 'health-check' });
    expect(!result.ok && result.message).toMatch(why);
    expect(h.unloaded).toEqual(['m@2']);
    expect(h.status()).toMatchObject({
      state: 'running',
      activation: undefined,
      file: expect.not.stringContaining(dir),
    });
  });

  it('refuses a file that cannot be loaded (load-failed) and one of the wrong shape', async () => {
    const h = await harness('mean');
    const empty = await h.dir();
    expect(await h.engine.activate('m', empty, { goodOutputs: 1, deadlineMs: 60_000 })).toMatchObject({
      ok: false,
      reason: 'load-failed',
    });
    const wrong = await h.dir();
    await writeModel(wrong, 'mean', { size: 7, inputs: 2 });
    const result = await h.engine.activate('m', wrong, { goodOutputs: 1, deadlineMs: 60_000 });
    expect(result).toMatchObject({ ok: false, reason: 'load-failed' });
    expect(!result.ok && result.message).toMatch(/its input window is \[1, 7, 2\]/);
  });

  it('gives up at the deadline when no good result came (inputs not good), keeping the old model', async () => {
    const h = await harness('mean');
    await h.period(2);
    await h.judged(1);
    const dir = await h.dir();
    await writeModel(dir, 'log', SHAPE);
    const activation = h.engine.activate('m', dir, { goodOutputs: 1, deadlineMs: 5000 });
    await until(() => h.status().activation !== undefined, 'the switch');
    h.points.setQuality('in.a', 'stale');
    await h.clock.advance(5000);
    expect(await activation).toMatchObject({ ok: false, reason: 'timeout' });
    expect(h.unloaded).toEqual(['m@2']);
    h.points.update('in.a', 3, 'test');
    await h.period(3);
    await h.judged(2);
    expect(h.points.get('m.score')).toMatchObject({ value: 2, quality: 'good' }); // the mean: the old model
  });

  it('is refused with a TypeError for a model that is not configured', async () => {
    const h = await harness('mean');
    await expect(h.engine.activate('other', '/x', { goodOutputs: 1, deadlineMs: 1 })).rejects.toThrow(
      TypeError,
    );
  });
});
