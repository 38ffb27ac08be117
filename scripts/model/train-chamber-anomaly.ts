/**
 * Trains the chamber anomaly model (models/chamber-anomaly.onnx) from the simulator's own normal
 * traces and writes it as ONNX, deterministically: the same seed gives the same bytes on any machine
 * (float64 arithmetic in a fixed order, seeded scenarios, seeded initialisation and batch order).
 *
 *   npm run build && node dist/scripts/model/train-chamber-anomaly.js            # writes the model
 *   node dist/scripts/model/train-chamber-anomaly.js --check                      # compares with it
 *
 * Steps: simulate `normalDays` fault-free days (chamber-trace.ts); fit the heater's effective gain G
 * (mean temperature against mean duty over the steady windows) for the implied-ambient features
 * (chamber-features.ts); cut 30 min windows every `strideS`; record each feature's normal range
 * (envelope.ts) and train the autoencoder (autoencoder.ts) to reconstruct the squashed features. Then
 * score `validationDays` other normal days every 10 s (how often the agent runs the model) and scale
 * the reconstruction term so that the highest validation score is 1/`margin`: the alarm threshold is
 * 1.0 (the rule is `above: 1`). No fault trace is used: the model only knows what normal looks like.
 *
 * anomaly_score = mse / T + excess · EXTENDED_FEATURES / ENVELOPE_MARGIN²
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Autoencoder } from './autoencoder.js';
import {
  addExtendedNodes,
  addFeatureNodes,
  BLOCK_SIZE,
  BLOCKS,
  BOUNDED_FEATURES,
  blockMeans,
  CHANNELS,
  EXTENDED_FEATURES,
  extendedFeatures,
  FEATURES,
  featureMatrix,
  scaledFeatures,
  WINDOW_SIZE,
} from './chamber-features.js';
import { CHAMBER_INPUTS, type ChamberTrace, normalScenario, runChamber, SAMPLE_MS } from './chamber-trace.js';
import { Envelope } from './envelope.js';
import { OnnxGraph } from './onnx-writer.js';

export interface TrainingConfig {
  /** The one seed everything derives from (training days seed+d, validation days seed+10000+d). */
  readonly seed: number;
  readonly normalDays: number;
  /** 0: calibrate on the training windows themselves (a quick build for tests, not a real model). */
  readonly validationDays: number;
  /** Stride between training windows, seconds. */
  readonly strideS: number;
  readonly sizes: readonly number[];
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** The highest validation score is 1/margin. */
  readonly margin: number;
}

/** The configuration of the committed model (models/README.md quotes it). */
export const CHAMBER_MODEL_TRAINING: TrainingConfig = {
  seed: 20_260_116,
  normalDays: 24,
  validationDays: 8,
  strideS: 60,
  sizes: [FEATURES, 16, 6, 16, FEATURES],
  epochs: 40,
  batchSize: 64,
  learningRate: 0.002,
  margin: 1.25,
};

/** A feature this many scale units outside its normal range scores 1 on its own. */
export const ENVELOPE_MARGIN = 1;
/** How often the agent runs the model (the `window.everyMs` to configure). */
export const EVERY_MS = 10_000;
export const DAY_S = 86_400;
export const MODEL_PATH = 'models/chamber-anomaly.onnx';

export interface TrainedModel {
  readonly bytes: Uint8Array;
  /** The effective heater gain of the implied-ambient features, K per unit duty. */
  readonly gainC: number;
  /** The reconstruction error that alone scores 1.0. */
  readonly reconstructionThreshold: number;
  readonly finalLoss: number;
  /** The highest anomaly_score over the validation days (1/margin by construction). */
  readonly validationMax: number;
  /** The anomaly_score of the window ending (exclusive) at `end`, in float64: what the graph computes. */
  score(samples: ArrayLike<number>, end: number): number;
}

function normalTraces(seed: number, days: number): ChamberTrace[] {
  return Array.from({ length: days }, (_, d) => runChamber(normalScenario(seed + d, DAY_S)));
}

/**
 * G from steady windows (every block's |error| < 0.3 °C, one setpoint): the least-squares slope of the
 * mean temperature on the mean duty. The room's temperature is the intercept's scatter.
 */
export function fitGain(traces: readonly ChamberTrace[], strideS: number): number {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const trace of traces) {
    for (let end = WINDOW_SIZE; end <= trace.length; end += strideS) {
      const m = blockMeans(trace.samples, end);
      let steady = true;
      for (let k = 0; k < BLOCKS && steady; k++) {
        steady = Math.abs((m[k] as number) - (m[BLOCKS + k] as number)) < 0.3 && m[BLOCKS + k] === m[BLOCKS];
      }
      if (!steady) continue;
      let t = 0;
      let u = 0;
      for (let k = 0; k < BLOCKS; k++) {
        t += (m[k] as number) / BLOCKS;
        u += (m[2 * BLOCKS + k] as number) / BLOCKS;
      }
      n++;
      sx += u;
      sy += t;
      sxx += u * u;
      sxy += u * t;
    }
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

function windows(traces: readonly ChamberTrace[], strideS: number, matrix: Float64Array): Float64Array[] {
  const rows: Float64Array[] = [];
  for (const trace of traces) {
    for (let end = WINDOW_SIZE; end <= trace.length; end += strideS) {
      const row = new Float64Array(FEATURES);
      scaledFeatures(trace.samples, end, matrix, row);
      rows.push(row);
    }
  }
  return rows;
}

export function trainChamberAnomaly(
  config: TrainingConfig,
  log: (line: string) => void = () => {},
): TrainedModel {
  const traces = normalTraces(config.seed, config.normalDays);
  const gainC = fitGain(traces, config.strideS);
  log(`effective heater gain G = ${gainC.toFixed(3)} K per unit duty`);
  const matrix = featureMatrix(gainC);
  const rows = windows(traces, config.strideS, matrix);
  const envelope = new Envelope(EXTENDED_FEATURES, BOUNDED_FEATURES);
  const data = new Float64Array(rows.length * FEATURES);
  for (const [i, row] of rows.entries()) {
    envelope.include(extendedFeatures(row));
    data.set(row.map(Math.tanh), i * FEATURES);
  }
  log(`${rows.length} training windows from ${config.normalDays} normal days`);
  const net = new Autoencoder({ sizes: config.sizes, seed: config.seed });
  const finalLoss = net.train(data, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    onEpoch: (epoch, loss) => log(`epoch ${epoch + 1}/${config.epochs}: loss ${loss.toExponential(3)}`),
  });

  // Calibrate: the smallest T such that every validation window scores at most 1/margin.
  const envelopeWeight = EXTENDED_FEATURES / ENVELOPE_MARGIN ** 2;
  const ceiling = 1 / config.margin;
  let threshold = 0;
  const validation =
    config.validationDays > 0
      ? windows(normalTraces(config.seed + 10_000, config.validationDays), EVERY_MS / 1000, matrix)
      : rows;
  for (const row of validation) {
    const fromEnvelope = envelope.excess(extendedFeatures(row)) * envelopeWeight;
    if (fromEnvelope >= ceiling)
      throw new Error(
        `a normal validation window scores ${fromEnvelope.toFixed(3)} on the envelope alone: ` +
          'the training days do not span normal operation (train on more days)',
      );
    threshold = Math.max(threshold, net.score(row.map(Math.tanh)) / (ceiling - fromEnvelope));
  }
  log(`reconstruction threshold ${threshold.toExponential(3)} (${validation.length} validation windows)`);

  const graph = new OnnxGraph('chamber-anomaly')
    .input('window', [1, WINDOW_SIZE, CHANNELS])
    .output('anomaly_score', [1]);
  addFeatureNodes(graph, { window: 'window', scaled: 'features', squashed: 'squashed' }, matrix);
  net.toOnnx(graph, 'squashed', 'reconstruction_score', 1 / threshold);
  addExtendedNodes(graph, 'features', 'extended');
  envelope.toOnnx(graph, 'extended', 'envelope_score', envelopeWeight);
  graph.node({ op: 'Add', inputs: ['reconstruction_score', 'envelope_score'], outputs: ['anomaly_score'] });
  const bytes = graph.toBytes({
    producer: 'edge-agent scripts/model/train-chamber-anomaly.ts',
    doc:
      'Anomaly detector for the simulated chamber (autoencoder reconstruction error + normal-range ' +
      'envelope); anomaly_score > 1 is an anomaly. See models/README.md.',
    props: {
      inputs: CHAMBER_INPUTS.join(','),
      'window.size': String(WINDOW_SIZE),
      'window.everyMs': String(EVERY_MS),
      'window.sampleMs': String(SAMPLE_MS),
      threshold: '1',
      'training.seed': String(config.seed),
      'features.blockSize': String(BLOCK_SIZE),
      'features.gainC': gainC.toFixed(6),
    },
  });
  const score = (samples: ArrayLike<number>, end: number) => {
    const row = new Float64Array(FEATURES);
    scaledFeatures(samples, end, matrix, row);
    return (
      net.score(row.map(Math.tanh)) / threshold + envelope.excess(extendedFeatures(row)) * envelopeWeight
    );
  };
  return { bytes, gainC, reconstructionThreshold: threshold, finalLoss, validationMax: ceiling, score };
}

function main(argv: readonly string[]): number {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const file = path.join(root, MODEL_PATH);
  const started = Date.now();
  const model = trainChamberAnomaly(CHAMBER_MODEL_TRAINING, (line) => console.log(line));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (argv.includes('--check')) {
    const committed = readFileSync(file);
    const same = Buffer.compare(committed, Buffer.from(model.bytes)) === 0;
    console.log(
      same
        ? `${MODEL_PATH} is what the script builds (${model.bytes.length} bytes, ${seconds} s)`
        : `${MODEL_PATH} differs from what the script builds: rebuild it or find the change`,
    );
    return same ? 0 : 1;
  }
  writeFileSync(file, model.bytes);
  console.log(`wrote ${MODEL_PATH} (${model.bytes.length} bytes) in ${seconds} s`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = main(process.argv.slice(2));
}
