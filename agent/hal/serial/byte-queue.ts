/**
 * A growable FIFO of received bytes for streaming frame decoders: chunks go in as they arrive, the
 * decoder looks for a start sequence, peeks at a header, and takes or discards whole frames. Bounded,
 * because a line that only ever carries garbage (wrong baud rate, a different sensor) must not grow the
 * buffer without limit: past `maxBytes` the oldest bytes are dropped and counted.
 */

export class ByteQueue {
  readonly maxBytes: number;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;

  constructor(maxBytes = 4096) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new TypeError(`maxBytes must be a positive integer, got ${String(maxBytes)}`);
    }
    this.maxBytes = maxBytes;
    this.#buf = new Uint8Array(Math.min(maxBytes, 256));
  }

  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends `chunk`; returns how many of the oldest bytes were dropped to stay within `maxBytes`. */
  push(chunk: Uint8Array): number {
    let data = chunk;
    let dropped = 0;
    if (data.length > this.maxBytes) {
      dropped += data.length - this.maxBytes;
      data = data.subarray(data.length - this.maxBytes);
    }
    const overflow = this.length + data.length - this.maxBytes;
    if (overflow > 0) {
      this.discard(overflow);
      dropped += overflow;
    }
    this.#reserve(data.length);
    this.#buf.set(data, this.#end);
    this.#end += data.length;
    return dropped;
  }

  /** The byte at `index` from the front; `undefined` past the end. */
  at(index: number): number | undefined {
    return index >= 0 && index < this.length ? this.#buf[this.#start + index] : undefined;
  }

  /** Index of the first occurrence of `sequence` at or after `from`, or -1. */
  indexOf(sequence: Uint8Array, from = 0): number {
    const n = sequence.length;
    outer: for (let i = Math.max(0, from); i + n <= this.length; i++) {
      for (let j = 0; j < n; j++) {
        if (this.#buf[this.#start + i + j] !== sequence[j]) continue outer;
      }
      return i;
    }
    return -1;
  }

  /** A copy of the first `count` bytes (fewer if the queue is shorter), left in the queue. */
  peek(count: number): Uint8Array {
    return this.#buf.slice(this.#start, this.#start + Math.min(count, this.length));
  }

  /** Removes and returns the first `count` bytes (fewer if the queue is shorter). */
  take(count: number): Uint8Array {
    const bytes = this.peek(count);
    this.discard(bytes.length);
    return bytes;
  }

  /** Drops the first `count` bytes (all if the queue is shorter). */
  discard(count: number): void {
    this.#start += Math.max(0, Math.min(count, this.length));
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  clear(): void {
    this.#start = this.#end = 0;
  }

  #reserve(extra: number): void {
    if (this.#end + extra <= this.#buf.length) return;
    const needed = this.length + extra;
    const target =
      needed <= this.#buf.length ? this.#buf : new Uint8Array(Math.max(needed, this.#buf.length * 2));
    target.set(this.#buf.subarray(this.#start, this.#end), 0);
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = target;
  }
}
