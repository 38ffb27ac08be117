/**
 * A small dense autoencoder trained in plain TypeScript: tanh hidden layers, a linear output, mean
 * squared reconstruction error, minibatch Adam (Kingma & Ba 2015). Written out rather than taken from a
 * library so that the training script has no dependency beyond the repository and rebuilds the same
 * weights on any machine: everything is float64, the initialisation and the batch order come from one
 * seeded generator, and the arithmetic is done in a fixed order (no threads, no SIMD reductions).
 *
 * The anomaly score of a sample is its mean squared reconstruction error: normal windows lie on the
 * low-dimensional manifold the bottleneck learned, a fault's window does not. `toOnnx` appends the
 * same network and score to an ONNX graph.
 */
import { type Random, seededRandom } from '../../agent/hal/sim/random.js';
import type { OnnxGraph } from './onnx-writer.js';

export interface AutoencoderOptions {
  /** Layer widths from input to output, e.g. [32, 24, 6, 24, 32]; the first and last must be equal. */
  readonly sizes: readonly number[];
  readonly seed: number;
}

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Called after each epoch with the mean training loss. */
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

interface Layer {
  readonly inputs: number;
  readonly outputs: number;
  /** [inputs, outputs], row-major (the orientation of ONNX MatMul's second operand). */
  readonly w: Float64Array;
  readonly b: Float64Array;
}

export class Autoencoder {
  readonly sizes: readonly number[];
  readonly #layers: Layer[];
  readonly #random: Random;

  constructor(options: AutoencoderOptions) {
    const { sizes } = options;
    if (sizes.length < 3 || sizes[0] !== sizes[sizes.length - 1]) {
      throw new TypeError(
        `sizes must have >= 3 widths, the first equal to the last, got [${sizes.join(', ')}]`,
      );
    }
    this.sizes = sizes;
    this.#random = seededRandom(options.seed);
    this.#layers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const inputs = sizes[l] as number;
      const outputs = sizes[l + 1] as number;
      const limit = Math.sqrt(6 / (inputs + outputs)); // Glorot uniform
      const w = new Float64Array(inputs * outputs);
      for (let i = 0; i < w.length; i++) w[i] = (2 * this.#random.next() - 1) * limit;
      this.#layers.push({ inputs, outputs, w, b: new Float64Array(outputs) });
    }
  }

  get width(): number {
    return this.sizes[0] as number;
  }

  /** Trains on `data` (row-major [n, width]); returns the last epoch's mean loss. */
  train(data: Float64Array, options: TrainOptions): number {
    const n = data.length / this.width;
    const layers = this.#layers;
    const moments = layers.map((l) => ({
      mw: new Float64Array(l.w.length),
      vw: new Float64Array(l.w.length),
      mb: new Float64Array(l.b.length),
      vb: new Float64Array(l.b.length),
      gw: new Float64Array(l.w.length),
      gb: new Float64Array(l.b.length),
    }));
    const acts = this.sizes.map((s) => new Float64Array(s));
    const deltas = this.sizes.map((s) => new Float64Array(s));
    const order = Array.from({ length: n }, (_, i) => i);
    const beta1 = 0.9;
    const beta2 = 0.999;
    let step = 0;
    let loss = 0;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      shuffleInPlace(this.#random, order);
      let total = 0;
      for (let first = 0; first < n; first += options.batchSize) {
        const last = Math.min(n, first + options.batchSize);
        for (const m of moments) {
          m.gw.fill(0);
          m.gb.fill(0);
        }
        for (let s = first; s < last; s++) {
          const row = order[s] as number;
          const x = data.subarray(row * this.width, (row + 1) * this.width);
          total += this.#forward(x, acts);
          this.#backward(x, acts, deltas, moments);
        }
        step++;
        const scale = 1 / (last - first);
        const lr = (options.learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
        layers.forEach((layer, l) => {
          const m = moments[l] as (typeof moments)[number];
          adam(layer.w, m.gw, m.mw, m.vw, scale, lr, beta1, beta2);
          adam(layer.b, m.gb, m.mb, m.vb, scale, lr, beta1, beta2);
        });
      }
      loss = total / n;
      options.onEpoch?.(epoch, loss);
    }
    return loss;
  }

  /** The anomaly score (mean squared reconstruction error) of one sample. */
  score(x: ArrayLike<number>): number {
    return this.#forward(
      x,
      this.sizes.map((s) => new Float64Array(s)),
    );
  }

  /**
   * Appends the network to `graph`: `input` [1, width] → `output` [1], the score multiplied by
   * `scale`.
   */
  toOnnx(graph: OnnxGraph, input: string, output: string, scale: number): void {
    let current = input;
    this.#layers.forEach((layer, l) => {
      const last = l === this.#layers.length - 1;
      graph
        .constant(`w${l}`, [layer.inputs, layer.outputs], layer.w)
        .constant(`b${l}`, [layer.outputs], layer.b)
        .node({ op: 'MatMul', inputs: [current, `w${l}`], outputs: [`z${l}`] })
        .node({ op: 'Add', inputs: [`z${l}`, `b${l}`], outputs: [last ? 'reconstruction' : `a${l}`] });
      if (!last) graph.node({ op: 'Tanh', inputs: [`a${l}`], outputs: [`h${l}`] });
      current = `h${l}`;
    });
    graph
      .constant('reconstruction_scale', [1], [scale])
      .node({ op: 'Sub', inputs: ['reconstruction', input], outputs: ['residual'] })
      .node({ op: 'Mul', inputs: ['residual', 'residual'], outputs: ['squared'] })
      .node({ op: 'ReduceMean', inputs: ['squared'], outputs: ['mse'], attrs: { axes: [1], keepdims: 0 } })
      .node({ op: 'Mul', inputs: ['mse', 'reconstruction_scale'], outputs: [output] });
  }

  /** Fills `acts` layer by layer; returns the mean squared error of the output against `x`. */
  #forward(x: ArrayLike<number>, acts: Float64Array[]): number {
    (acts[0] as Float64Array).set(x);
    this.#layers.forEach((layer, l) => {
      const a = acts[l] as Float64Array;
      const z = acts[l + 1] as Float64Array;
      z.set(layer.b);
      for (let i = 0; i < layer.inputs; i++) {
        const ai = a[i] as number;
        const row = i * layer.outputs;
        for (let j = 0; j < layer.outputs; j++) z[j] = (z[j] as number) + ai * (layer.w[row + j] as number);
      }
      if (l < this.#layers.length - 1) for (let j = 0; j < z.length; j++) z[j] = Math.tanh(z[j] as number);
    });
    const out = acts[acts.length - 1] as Float64Array;
    let sum = 0;
    for (let j = 0; j < out.length; j++) sum += ((out[j] as number) - (x[j] as number)) ** 2;
    return sum / out.length;
  }

  #backward(
    x: ArrayLike<number>,
    acts: Float64Array[],
    deltas: Float64Array[],
    grads: { gw: Float64Array; gb: Float64Array }[],
  ): void {
    const layers = this.#layers;
    const top = deltas[deltas.length - 1] as Float64Array;
    const out = acts[acts.length - 1] as Float64Array;
    for (let j = 0; j < top.length; j++) top[j] = (2 * ((out[j] as number) - (x[j] as number))) / top.length;
    for (let l = layers.length - 1; l >= 0; l--) {
      const layer = layers[l] as Layer;
      const a = acts[l] as Float64Array;
      const d = deltas[l + 1] as Float64Array;
      const g = grads[l] as { gw: Float64Array; gb: Float64Array };
      const below = deltas[l] as Float64Array;
      for (let j = 0; j < layer.outputs; j++) g.gb[j] = (g.gb[j] as number) + (d[j] as number);
      for (let i = 0; i < layer.inputs; i++) {
        const ai = a[i] as number;
        const row = i * layer.outputs;
        let back = 0;
        for (let j = 0; j < layer.outputs; j++) {
          const dj = d[j] as number;
          g.gw[row + j] = (g.gw[row + j] as number) + ai * dj;
          back += dj * (layer.w[row + j] as number);
        }
        // The layer below is a tanh layer (the input layer's delta is computed but unused).
        below[i] = back * (1 - ai * ai);
      }
    }
  }
}

function adam(
  param: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  scale: number,
  lr: number,
  beta1: number,
  beta2: number,
): void {
  for (let i = 0; i < param.length; i++) {
    const g = (grad[i] as number) * scale;
    m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
    v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
    param[i] = (param[i] as number) - (lr * (m[i] as number)) / (Math.sqrt(v[i] as number) + 1e-8);
  }
}

function shuffleInPlace(random: Random, items: number[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    const t = items[i] as number;
    items[i] = items[j] as number;
    items[j] = t;
  }
}
