/**
 * The chamber anomaly model's features, defined once and computed two ways that must agree: in
 * TypeScript (for training, from the simulated traces) and as the first nodes of the ONNX graph (for
 * the agent, from the raw `window` input of the model file contract). Every feature is a linear map of
 * the window's block means, so both are the same matrices; test/unit/scripts/model/ checks that they agree.
 *
 * The window is the last 30 min of 1 s samples of `[chamber.temp, loop.chamber.setpoint,
 * loop.chamber.output]`, cut into 10 blocks of 3 min; block means remove the sensor noise and the 10 s
 * relay ripple of the time-proportioned heater. Features, each centred and divided by a fixed scale (the
 * resolution that matters):
 *  - the tracking error per block, temp − setpoint (10, scale 2 °C): a stuck heater shows as the error
 *    *rising* while the duty sits at 0 — after a setpoint drop the error is large too, but falls;
 *  - the *implied ambient* per block, temp − G·duty, minus its window mean (10, scale 1 °C). In steady
 *    state the loop's duty is what holds the chamber G·duty above the room (G, the effective gain, is
 *    fitted from the normal traces by the training script), so temp − G·duty is the room temperature
 *    the chamber "believes in". It moves as slowly as a room does in normal operation; an open door
 *    steps it down (the heater works harder at the same temperature), a drifting sensor ramps it by
 *    the drift rate (the loop holds the reading, so the true temperature and the duty follow the drift);
 *  - its slope over the window (scale 1 °C per block) and its mean (centre 21 °C, scale 3 °C);
 *  - the mean setpoint (centre 45, scale 15) and the mean duty (centre 0.4, scale 0.3): where the
 *    chamber sits, so the autoencoder can tell a setpoint change's transient from a fault.
 * The autoencoder sees the features through tanh, which squashes the large but normal swings after a
 * setpoint change so they do not dominate training; the envelope term sees them unsquashed.
 */
import type { OnnxGraph } from './onnx-writer.js';

export const WINDOW_SIZE = 1800;
export const BLOCK_SIZE = 180;
export const BLOCKS = WINDOW_SIZE / BLOCK_SIZE;
export const CHANNELS = 3;
export const FEATURES = 2 * BLOCKS + 4;

const TEMP = 0;
const SETPOINT = 1;
const DUTY = 2;
const ERROR0 = 0;
const AMBIENT0 = BLOCKS;
const SLOPE = 2 * BLOCKS;
const AMBIENT_MEAN = SLOPE + 1;
const SETPOINT_MEAN = SLOPE + 2;
const DUTY_MEAN = SLOPE + 3;

/**
 * Steady-state gating: the implied ambient means the room's temperature only while the loop holds
 * its setpoint (after a setpoint change the duty saturates and temp − G·duty is anything). So its mean
 * and slope are also given multiplied by a gate g = exp(−mean_k(e_k/2 °C)² / GATE_WIDTH), ≈ 1 when every
 * block's error is within ~0.1 °C and ≈ 0 through a transient. Gated, their normal range is a room's:
 * ±0.8 °C around 17–25 °C and at most ~2.5 °C/h. The slope is given at 0.1 °C per block per unit.
 */
export const GATE_WIDTH = 0.01;
export const GATED_SCALE: readonly number[] = [1, 10];
/** The envelope's inputs: the features, then the gated implied-ambient mean and slope. */
export const EXTENDED_FEATURES = FEATURES + 2;
/** The features whose normal range is the chamber's and its room's, not the setpoint steps' (envelope.ts). */
export const BOUNDED_FEATURES: readonly number[] = [
  AMBIENT_MEAN,
  SETPOINT_MEAN,
  DUTY_MEAN,
  FEATURES,
  FEATURES + 1,
];

/** The gate of the scaled features `x` (see GATE_WIDTH). */
function gate(x: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k < BLOCKS; k++) sum += (x[ERROR0 + k] as number) ** 2;
  return Math.exp(-(sum / BLOCKS) / GATE_WIDTH);
}

/** The envelope's inputs from the scaled features (length EXTENDED_FEATURES). */
export function extendedFeatures(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(EXTENDED_FEATURES);
  out.set(Array.from(x));
  const g = gate(x);
  out[FEATURES] = (x[AMBIENT_MEAN] as number) * g * (GATED_SCALE[0] as number);
  out[FEATURES + 1] = (x[SLOPE] as number) * g * (GATED_SCALE[1] as number);
  return out;
}

/** Adds the nodes of `extendedFeatures`: `scaled` [1, FEATURES] → `extended` [1, EXTENDED_FEATURES]. */
export function addExtendedNodes(graph: OnnxGraph, scaled: string, extended: string): void {
  const pickErrors = new Float64Array(FEATURES * BLOCKS);
  for (let k = 0; k < BLOCKS; k++) pickErrors[(ERROR0 + k) * BLOCKS + k] = 1;
  const pickAmbient = new Float64Array(FEATURES * 2);
  pickAmbient[AMBIENT_MEAN * 2] = GATED_SCALE[0] as number;
  pickAmbient[SLOPE * 2 + 1] = GATED_SCALE[1] as number;
  graph
    .constant('pick_errors', [FEATURES, BLOCKS], pickErrors)
    .constant('pick_ambient', [FEATURES, 2], pickAmbient)
    .constant('gate_factor', [1], [-1 / GATE_WIDTH])
    .node({ op: 'MatMul', inputs: [scaled, 'pick_errors'], outputs: ['errors'] })
    .node({ op: 'Mul', inputs: ['errors', 'errors'], outputs: ['errors_squared'] })
    .node({
      op: 'ReduceMean',
      inputs: ['errors_squared'],
      outputs: ['error_power'],
      attrs: { axes: [1], keepdims: 1 },
    })
    .node({ op: 'Mul', inputs: ['error_power', 'gate_factor'], outputs: ['gate_exponent'] })
    .node({ op: 'Exp', inputs: ['gate_exponent'], outputs: ['gate'] })
    .node({ op: 'MatMul', inputs: [scaled, 'pick_ambient'], outputs: ['ambient'] })
    .node({ op: 'Mul', inputs: ['ambient', 'gate'], outputs: ['gated_ambient'] })
    .node({ op: 'Concat', inputs: [scaled, 'gated_ambient'], outputs: [extended], attrs: { axis: 1 } });
}

/** Centre and scale of each feature, in the order of the header. */
export const FEATURE_CENTRE: readonly number[] = [...new Array<number>(2 * BLOCKS).fill(0), 0, 21, 45, 0.4];
export const FEATURE_SCALE: readonly number[] = [
  ...new Array<number>(BLOCKS).fill(2),
  ...new Array<number>(BLOCKS).fill(1),
  1,
  3,
  15,
  0.3,
];

/**
 * The linear map from block means to raw features for an effective heater gain `gainC` (K per unit
 * duty): [CHANNELS·BLOCKS, FEATURES], row-major, rows in the order ONNX Flatten gives a
 * [1, CHANNELS, BLOCKS] tensor (channel-major).
 */
export function featureMatrix(gainC: number): Float64Array {
  const w = new Float64Array(CHANNELS * BLOCKS * FEATURES);
  const add = (channel: number, block: number, feature: number, value: number) => {
    const i = (channel * BLOCKS + block) * FEATURES + feature;
    w[i] = (w[i] as number) + value;
  };
  // Least-squares slope weights over the block index (centred), per block.
  const mid = (BLOCKS - 1) / 2;
  let sxx = 0;
  for (let k = 0; k < BLOCKS; k++) sxx += (k - mid) ** 2;
  for (let k = 0; k < BLOCKS; k++) {
    add(TEMP, k, ERROR0 + k, 1);
    add(SETPOINT, k, ERROR0 + k, -1);
    // implied ambient a_k = temp_k − G·duty_k; shape a_k − mean(a); slope; mean.
    for (let j = 0; j < BLOCKS; j++) {
      const shape = (j === k ? 1 : 0) - 1 / BLOCKS;
      add(TEMP, j, AMBIENT0 + k, shape);
      add(DUTY, j, AMBIENT0 + k, -gainC * shape);
    }
    add(TEMP, k, SLOPE, (k - mid) / sxx);
    add(DUTY, k, SLOPE, (-gainC * (k - mid)) / sxx);
    add(TEMP, k, AMBIENT_MEAN, 1 / BLOCKS);
    add(DUTY, k, AMBIENT_MEAN, -gainC / BLOCKS);
    add(SETPOINT, k, SETPOINT_MEAN, 1 / BLOCKS);
    add(DUTY, k, DUTY_MEAN, 1 / BLOCKS);
  }
  return w;
}

/** Mean of each channel over each block of the window ending (exclusive) at sample `end`. */
export function blockMeans(samples: ArrayLike<number>, end: number): Float64Array {
  const start = end - WINDOW_SIZE;
  if (start < 0) throw new RangeError(`a window needs ${WINDOW_SIZE} samples before ${end}`);
  const means = new Float64Array(CHANNELS * BLOCKS);
  for (let k = 0; k < BLOCKS; k++) {
    for (let c = 0; c < CHANNELS; c++) {
      let sum = 0;
      for (let i = start + k * BLOCK_SIZE; i < start + (k + 1) * BLOCK_SIZE; i++) {
        sum += samples[i * CHANNELS + c] as number;
      }
      means[c * BLOCKS + k] = sum / BLOCK_SIZE;
    }
  }
  return means;
}

/**
 * The scaled features (centred, divided by their scale; before tanh) of the window ending (exclusive)
 * at sample `end` of `samples` (row-major [n, CHANNELS]), written into `out` (length FEATURES).
 */
export function scaledFeatures(
  samples: ArrayLike<number>,
  end: number,
  matrix: Float64Array,
  out: Float64Array,
): void {
  const means = blockMeans(samples, end);
  out.fill(0);
  for (let r = 0; r < CHANNELS * BLOCKS; r++) {
    const m = means[r] as number;
    for (let f = 0; f < FEATURES; f++) out[f] = (out[f] as number) + m * (matrix[r * FEATURES + f] as number);
  }
  for (let f = 0; f < FEATURES; f++) {
    out[f] = ((out[f] as number) - (FEATURE_CENTRE[f] as number)) / (FEATURE_SCALE[f] as number);
  }
}

/**
 * Adds the feature nodes: `window` [1, WINDOW_SIZE, CHANNELS] → `scaled` [1, FEATURES] (before tanh)
 * and `squashed` (after).
 */
export function addFeatureNodes(
  graph: OnnxGraph,
  names: { window: string; scaled: string; squashed: string },
  matrix: Float64Array,
): void {
  const blockMean = new Float64Array(WINDOW_SIZE * BLOCKS);
  for (let n = 0; n < WINDOW_SIZE; n++) blockMean[n * BLOCKS + Math.floor(n / BLOCK_SIZE)] = 1 / BLOCK_SIZE;
  graph
    .constant('block_mean', [WINDOW_SIZE, BLOCKS], blockMean)
    .constant('feature_map', [CHANNELS * BLOCKS, FEATURES], matrix)
    .constant('feature_centre', [FEATURES], FEATURE_CENTRE)
    .constant('feature_scale', [FEATURES], FEATURE_SCALE)
    .node({ op: 'Transpose', inputs: [names.window], outputs: ['channels'], attrs: { perm: [0, 2, 1] } })
    .node({ op: 'MatMul', inputs: ['channels', 'block_mean'], outputs: ['block_means'] })
    .node({ op: 'Flatten', inputs: ['block_means'], outputs: ['block_means_flat'], attrs: { axis: 1 } })
    .node({ op: 'MatMul', inputs: ['block_means_flat', 'feature_map'], outputs: ['raw_features'] })
    .node({ op: 'Sub', inputs: ['raw_features', 'feature_centre'], outputs: ['centred'] })
    .node({ op: 'Div', inputs: ['centred', 'feature_scale'], outputs: [names.scaled] })
    .node({ op: 'Tanh', inputs: [names.scaled], outputs: [names.squashed] });
}
