/**
 * The second half of the chamber anomaly score: how far a window's features lie outside the range
 * they took in normal operation (per feature, the training minimum and maximum). An autoencoder scores
 * a window by what its bottleneck cannot reconstruct, and that is weak for a single feature far out of
 * range — its error is averaged with all the others, and a network extrapolates a lone direction
 * almost linearly. The envelope catches exactly that case (an open door's implied ambient 20 °C below
 * any room, a stuck heater's 60 °C above), the autoencoder the shapes that stay within every range
 * (an error rising while the duty sits at 0, a steady ramp of the implied ambient).
 *
 * Only features whose normal range is a property of the chamber and its room belong in an envelope:
 * a feature whose extremes come from the largest setpoint step in the training days (the tracking
 * error, say) would make the next, larger step an alarm. Features left out get an unbounded range.
 *
 * excess = mean over features of relu(|x − mid| − half)², in scale units; the score adds
 * excess·FEATURES/margin², so a single feature `margin` scale units outside its envelope scores 1.
 */
import type { OnnxGraph } from './onnx-writer.js';

/** The half-width of an unbounded feature's range: far beyond any feature, and finite in float32. */
const UNBOUNDED = 1e30;

export class Envelope {
  readonly lo: Float64Array;
  readonly hi: Float64Array;

  readonly #bounded: readonly number[];

  /** `bounded`: the indices of the features that get an envelope. */
  constructor(width: number, bounded: readonly number[]) {
    this.lo = new Float64Array(width).fill(-UNBOUNDED);
    this.hi = new Float64Array(width).fill(UNBOUNDED);
    for (const i of bounded) {
      this.lo[i] = Number.POSITIVE_INFINITY;
      this.hi[i] = Number.NEGATIVE_INFINITY;
    }
    this.#bounded = bounded;
  }

  include(x: ArrayLike<number>): void {
    for (const i of this.#bounded) {
      const v = x[i] as number;
      if (v < (this.lo[i] as number)) this.lo[i] = v;
      if (v > (this.hi[i] as number)) this.hi[i] = v;
    }
  }

  /** Mean squared excess outside the envelope, in the features' units. */
  excess(x: ArrayLike<number>): number {
    let sum = 0;
    for (let i = 0; i < this.lo.length; i++) {
      const lo = this.lo[i] as number;
      const hi = this.hi[i] as number;
      const over = Math.max(0, Math.abs((x[i] as number) - (lo + hi) / 2) - (hi - lo) / 2);
      sum += over * over;
    }
    return sum / this.lo.length;
  }

  /** Appends `input` [1, width] → `output` [1]: excess × `weight`. */
  toOnnx(graph: OnnxGraph, input: string, output: string, weight: number): void {
    const mid = Array.from(this.lo, (lo, i) => (lo + (this.hi[i] as number)) / 2);
    const half = Array.from(this.lo, (lo, i) => ((this.hi[i] as number) - lo) / 2);
    graph
      .constant('envelope_mid', [mid.length], mid)
      .constant('envelope_half', [half.length], half)
      .constant('envelope_weight', [1], [weight])
      .node({ op: 'Sub', inputs: [input, 'envelope_mid'], outputs: ['from_mid'] })
      .node({ op: 'Abs', inputs: ['from_mid'], outputs: ['distance'] })
      .node({ op: 'Sub', inputs: ['distance', 'envelope_half'], outputs: ['beyond'] })
      .node({ op: 'Relu', inputs: ['beyond'], outputs: ['over'] })
      .node({ op: 'Mul', inputs: ['over', 'over'], outputs: ['over_squared'] })
      .node({
        op: 'ReduceMean',
        inputs: ['over_squared'],
        outputs: ['excess'],
        attrs: { axes: [1], keepdims: 0 },
      })
      .node({ op: 'Mul', inputs: ['excess', 'envelope_weight'], outputs: [output] });
  }
}
