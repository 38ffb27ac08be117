/**
 * infer: what local inference costs the gateway.
 *  - latency per window: back-to-back runs in the real worker (OnnxRunner), the run itself as the
 *    worker times it (`modelMs`) and the round trip the engine waits for (`roundTripMs`), p50/p99 —
 *    for models/chamber-anomaly.onnx (window [1, 1800, 3]) and for the stand-in below;
 *  - the loop and RSS parts run the stand-in of infer-stand-in-model.ts (the real model's operators on
 *    a 60-sample window: the real one's 1800 samples would take minutes to fill before its first run;
 *    `--model FILE` runs another model of the stand-in's shape);
 *  - the control loop's lateness, side by side in each run: a real ControlLoop (10 Hz) on the
 *    Scheduler driving the simulated chamber (ThermalPlant), alone and with the InferenceEngine
 *    running the model on its points every 250 ms (40× the configuration's 10 s, to make any effect
 *    visible), p50/p99/max in ms; the order alternates between runs;
 *  - agent RSS: the built agent as the service unit runs it (its node options), on the simulated board
 *    with the chamber loop, without and with the model configured (the runtime loaded), after idling:
 *    VmRSS and peak (VmHWM), MB;
 *  - detection: scripts/model/evaluate-detector.ts on `--days` simulated days from `--seed`.
 * Medians over `--runs`.
 *   npm run bench -- infer [--runs 3] [--windows 500] [--seconds 10] [--idle-s 15] [--model FILE]
 *                          [--days 10] [--seed 7000]
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AlarmManager } from '../../agent/control/alarms.js';
import { ControlLoop } from '../../agent/control/loop.js';
import { loopSchema } from '../../agent/control/loop-schema.js';
import { Scheduler } from '../../agent/control/scheduler.js';
import { SystemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { PointTable } from '../../agent/core/points.js';
import { DEFAULT_THERMAL_PLANT, ThermalPlant } from '../../agent/hal/sim/thermal-plant.js';
import { modelSchema } from '../../agent/infer/infer-schema.js';
import { InferenceEngine } from '../../agent/infer/inference-engine.js';
import { OnnxRunner } from '../../agent/infer/onnx-runner.js';
import { evaluateDetector } from '../model/evaluate-detector.js';
import { MODEL_PATH } from '../model/train-chamber-anomaly.js';
import { STAND_IN, standInModelBytes } from './infer-stand-in-model.js';
import { unitRuntime } from './service-unit.js';
import { median, parseFlags, quantile, round } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const WORKER_ENTRY = new URL('../../agent/infer/onnx-worker-main.js', import.meta.url);
const INPUTS = ['chamber.temp', 'loop.chamber.setpoint', 'loop.chamber.output'];
const REAL_MODEL = { file: path.join(ROOT, MODEL_PATH), dims: [1, 1800, INPUTS.length] } as const;
const STAND_IN_DIMS = [1, STAND_IN.size, STAND_IN.inputs] as const;

interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

export async function inferBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args);
  const runs = Number(flags.get('runs') ?? 3);
  const windows = Number(flags.get('windows') ?? 500);
  const seconds = Number(flags.get('seconds') ?? 10);
  const idleS = Number(flags.get('idle-s') ?? 15);
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-agent-bench-infer-'));
  const model = path.join(dir, 'model.onnx');
  const given = flags.get('model');
  if (given) await copyFile(given, model);
  else await writeFile(model, standInModelBytes());
  try {
    type Latency = { modelMs: Quantiles; roundTripMs: Quantiles };
    const latency: Latency[] = [];
    const realLatency: Latency[] = [];
    const loop: Record<'without' | 'with', Quantiles[]> = { without: [], with: [] };
    const windowsRun: number[] = [];
    const rss: Record<'without' | 'with', { rssMb: number; peakMb: number }[]> = { without: [], with: [] };
    for (let run = 0; run < runs; run++) {
      const real = await measureLatency(REAL_MODEL.file, REAL_MODEL.dims, windows);
      realLatency.push(real);
      const l = await measureLatency(model, STAND_IN_DIMS, windows);
      latency.push(l);
      for (const [name, q] of [
        ['chamber-anomaly', real],
        ['stand-in', l],
      ] as const) {
        log(
          `run ${run + 1}/${runs} latency ${name}: model p50 ${q.modelMs.p50} p99 ${q.modelMs.p99}, round trip p50 ${q.roundTripMs.p50} p99 ${q.roundTripMs.p99} ms`,
        );
      }
      for (const withModel of run % 2 === 0 ? [false, true] : [true, false]) {
        const m = await measureLoop(withModel ? model : undefined, seconds);
        loop[withModel ? 'with' : 'without'].push(m.lateness);
        if (withModel) windowsRun.push(m.windows);
        log(
          `run ${run + 1}/${runs} loop ${withModel ? 'with' : 'without'} inference: lateness p50 ${m.lateness.p50} p99 ${m.lateness.p99} max ${m.lateness.max} ms${withModel ? ` (${m.windows} windows)` : ''}`,
        );
      }
      for (const withModel of [false, true]) {
        const r = await agentRss(dir, withModel ? model : undefined, idleS);
        rss[withModel ? 'with' : 'without'].push(r);
        log(
          `run ${run + 1}/${runs} agent RSS ${withModel ? 'with' : 'without'} the runtime: ${r.rssMb} MB (peak ${r.peakMb})`,
        );
      }
    }
    const med = (list: Quantiles[]): Quantiles => ({
      p50: round(median(list.map((q) => q.p50)), 3),
      p99: round(median(list.map((q) => q.p99)), 3),
      max: round(median(list.map((q) => q.max)), 3),
    });
    const medRss = (list: { rssMb: number; peakMb: number }[]) => ({
      rssMb: round(median(list.map((r) => r.rssMb))),
      peakMb: round(median(list.map((r) => r.peakMb))),
    });
    return {
      runs,
      model: given
        ? { file: given }
        : {
            standIn:
              'MLP autoencoder 180→32→8→32→180 on window [1,60,3] (scripts/bench/infer-stand-in-model.ts)',
          },
      latencyPerWindowMs: {
        windows,
        chamberAnomaly: {
          window: REAL_MODEL.dims,
          model: med(realLatency.map((l) => l.modelMs)),
          roundTrip: med(realLatency.map((l) => l.roundTripMs)),
        },
        model: med(latency.map((l) => l.modelMs)),
        roundTrip: med(latency.map((l) => l.roundTripMs)),
      },
      loopLatenessMs: {
        loop: '10 Hz ControlLoop on the Scheduler, simulated chamber; inference every 250 ms, sampled every 50 ms',
        seconds,
        without: med(loop.without),
        with: med(loop.with),
        windowsRunMedian: median(windowsRun),
      },
      agentRss: { idleS, without: medRss(rss.without), with: medRss(rss.with) },
      detection: await evaluateDetector({
        days: Number(flags.get('days') ?? 10),
        seed: Number(flags.get('seed') ?? 7000),
        modelFile: REAL_MODEL.file,
      }),
      goal: {
        loopLatenessP99: 'unchanged within noise',
        detection: 'recall ≥ 0.9 at ≤ 1 false alarm per simulated day',
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function quantiles(samples: number[]): Quantiles {
  return {
    p50: round(quantile(samples, 0.5), 3),
    p99: round(quantile(samples, 0.99), 3),
    max: round(Math.max(...samples), 3),
  };
}

/** Back-to-back runs on a varying window after a warm-up: the worker's time and the round trip. */
async function measureLatency(model: string, dims: readonly number[], windows: number) {
  const clock = new SystemClock();
  const runner = new OnnxRunner({ clock, log: silentLogger() }, { workerEntry: WORKER_ENTRY });
  await runner.prepare();
  const loaded = await runner.load('bench@1', model);
  if (!loaded.ok) throw new Error(`the model did not load: ${loaded.message}`);
  const modelMs: number[] = [];
  const roundTripMs: number[] = [];
  const size = dims.reduce((a, b) => a * b, 1);
  for (let i = -20; i < windows; i++) {
    const window = Float32Array.from({ length: size }, (_, j) => 45 + Math.sin(i + j) * 5);
    const t0 = performance.now();
    const r = await runner.run({
      session: 'bench@1',
      window,
      dims: [...dims],
      outputs: ['anomaly_score'],
      timeoutMs: 5000,
    });
    const t1 = performance.now();
    if (!r.ok) throw new Error(`a run failed: ${r.message}`);
    if (i < 0) continue;
    modelMs.push(r.elapsedMs);
    roundTripMs.push(t1 - t0);
  }
  await runner.stop();
  return { modelMs: quantiles(modelMs), roundTripMs: quantiles(roundTripMs) };
}

/** A real ControlLoop on the Scheduler holding the simulated chamber; with `model`, inference beside it. */
async function measureLoop(model: string | undefined, seconds: number) {
  const clock = new SystemClock();
  const logger = silentLogger();
  const points = new PointTable({ clock });
  points.declare({ name: 'chamber.temp', unit: 'Cel', staleAfterMs: 1000 });
  points.declare({ name: 'heater.power', unit: '/', writable: true });
  points.onWrite('heater.power', async () => undefined);
  const plant = new ThermalPlant(DEFAULT_THERMAL_PLANT);
  const plantTimer = clock.setInterval(() => {
    const duty = points.get('heater.power')?.value;
    plant.step(0.05, typeof duty === 'number' ? duty : 0);
    points.update('chamber.temp', plant.temperatureC, 'sim');
  }, 50);
  points.update('chamber.temp', plant.temperatureC, 'sim');
  const alarms = new AlarmManager({ clock });
  const loop = new ControlLoop(
    { clock, log: logger, points, alarms },
    loopSchema.parse({
      name: 'chamber',
      input: 'chamber.temp',
      output: 'heater.power',
      setpoint: 45,
      periodMs: 100,
      tunings: { kp: 0.2, ki: 0.002, kd: 1.0 },
      startupGraceMs: 0,
    }),
  );
  loop.declarePoints();
  const scheduler = new Scheduler({ clock, log: logger });
  const lateness: number[] = [];
  for (const task of loop.tasks()) {
    scheduler.add({
      name: task.name,
      periodMs: task.periodMs,
      run: (deadline) => {
        lateness.push(clock.monotonicMs() - deadline);
        return task.run(deadline);
      },
    });
  }
  let engine: InferenceEngine | undefined;
  if (model) {
    const runner = new OnnxRunner({ clock, log: logger }, { workerEntry: WORKER_ENTRY });
    engine = new InferenceEngine(
      { clock, log: logger, points, alarms, runner, modelFile: async () => model },
      [
        modelSchema.parse({
          name: 'chamber-anomaly',
          file: model,
          runtime: 'onnx',
          inputs: INPUTS,
          window: { size: STAND_IN.size, everyMs: 250, sampleMs: 50 },
          outputs: { anomaly_score: 'chamber.anomaly' },
          timeoutMs: 500,
        }),
      ],
    );
    engine.declarePoints();
    await engine.start();
    await engine.loaded();
  }
  await loop.start();
  scheduler.start();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await scheduler.stop();
  await loop.stop();
  const windows = engine?.status()[0]?.good ?? 0;
  await engine?.stop();
  plantTimer.cancel();
  return { lateness: quantiles(lateness), windows };
}

/** The built agent as the unit runs it, idle on the simulated board: VmRSS and VmHWM after `idleS`. */
async function agentRss(dir: string, model: string | undefined, idleS: number) {
  const unit = await unitRuntime();
  const state = await mkdtemp(path.join(dir, 'state-'));
  const config = path.join(state, 'agent.yaml');
  await writeFile(
    config,
    `board: ${path.join(ROOT, 'boards/sim.yaml')}
wiring: ${path.join(ROOT, 'wiring/chamber-kit-sim.yaml')}
stateDir: ${state}
loops:
  - name: chamber
    input: chamber.temp
    output: heater.state
    setpoint: 45
    periodMs: 1000
    tunings: { kp: 0.2, ki: 0.002, kd: 1.0 }
    timeProportioning: { windowMs: 10000 }
${
  model
    ? `inference:
  models:
    - name: chamber-anomaly
      file: ${model}
      runtime: onnx
      inputs: [${INPUTS.join(', ')}]
      window: { size: ${STAND_IN.size}, everyMs: 1000, sampleMs: 100 }
      outputs: { anomaly_score: chamber.anomaly }
`
    : ''
}`,
  );
  const child = spawn(
    process.execPath,
    [...unit.nodeArgs, path.join(ROOT, 'dist/agent/main.js'), 'run', '--config', config],
    {
      env: { ...process.env, ...unit.env, EDGE_AGENT_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error('the agent did not start within 20 s')), 20_000);
      let running = false;
      let loaded = !model;
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.includes('"edge-agent running"')) running = true;
        if (line.includes('"model loaded"')) loaded = true;
        if (line.includes('"inference model faulted"')) reject(new Error(`the model faulted: ${line}`));
        if (running && loaded) {
          clearTimeout(timeout);
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, idleS * 1000));
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
    return { rssMb: round(kb('VmRSS') / 1024), peakMb: round(kb('VmHWM') / 1024) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
