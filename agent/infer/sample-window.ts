/**
 * The last `size` samples of a model's input points, oldest first, as the model's `window` input
 * wants them (`[1, size, inputs]`, row-major float32). A ring buffer: a sample costs one row copy, a
 * window one allocation (its buffer is then transferred to the worker). Booleans are 1 and 0.
 */
export class SampleWindow {
  readonly size: number;
  readonly inputs: number;
  readonly #ring: Float32Array;
  #next = 0;
  #count = 0;

  constructor(size: number, inputs: number) {
    if (!(Number.isInteger(size) && size >= 1))
      throw new TypeError(`size must be an integer >= 1, got ${size}`);
    if (!(Number.isInteger(inputs) && inputs >= 1)) {
      throw new TypeError(`inputs must be an integer >= 1, got ${inputs}`);
    }
    this.size = size;
    this.inputs = inputs;
    this.#ring = new Float32Array(size * inputs);
  }

  /** Whether `size` samples have been taken since the start or the last `clear()`. */
  get full(): boolean {
    return this.#count >= this.size;
  }

  push(row: readonly number[]): void {
    if (row.length !== this.inputs)
      throw new TypeError(`row must have ${this.inputs} values, got ${row.length}`);
    this.#ring.set(row, this.#next * this.inputs);
    this.#next = (this.#next + 1) % this.size;
    this.#count = Math.min(this.#count + 1, this.size);
  }

  /** Forgets every sample (an input went bad: a window with a hole is not what the model learnt). */
  clear(): void {
    this.#next = 0;
    this.#count = 0;
  }

  /** A copy of the window, oldest sample first; zeros where no sample was taken yet. */
  snapshot(): Float32Array {
    const out = new Float32Array(this.size * this.inputs);
    if (this.#count < this.size) {
      out.set(this.#ring.subarray(0, this.#count * this.inputs), (this.size - this.#count) * this.inputs);
      return out;
    }
    const split = this.#next * this.inputs;
    out.set(this.#ring.subarray(split), 0);
    out.set(this.#ring.subarray(0, split), this.#ring.length - split);
    return out;
  }

  /** The `window` input's dimensions. */
  dims(): number[] {
    return [1, this.size, this.inputs];
  }
}
