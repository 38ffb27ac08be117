/**
 * A small CBOR writer (RFC 8949) in preferred serialization (§4.1): every head — integers, lengths of
 * strings, arrays and maps — in its shortest form, and floats as half (f9), single (fa) or double (fb)
 * precision, whichever is the shortest that holds the value exactly. Integers, floats, text, bytes,
 * booleans, definite-length arrays and maps; no tags, no indefinite lengths, nothing cbor-x-specific —
 * any CBOR decoder reads the output. Written here rather than taken from cbor-x because SenML asks for
 * a number representation that converts back to exactly the same double (RFC 8428 §6) and the
 * shortest such one is what makes the packs small, and because cbor-x writes maps from objects with a
 * 16-bit length head and large integers as doubles. SenML packs and events (telemetry/), the `status`
 * message (link/) and OTA status (ota/) are written with it.
 */

const INITIAL_BYTES = 256;

export class CborWriter {
  #buf = new Uint8Array(INITIAL_BYTES);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  /** The bytes written so far (a copy, so the writer can be reused). */
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  get length(): number {
    return this.#len;
  }

  reset(): void {
    this.#len = 0;
  }

  arrayHeader(count: number): void {
    this.#head(4, count);
  }

  mapHeader(count: number): void {
    this.#head(5, count);
  }

  bool(value: boolean): void {
    this.#reserve(1);
    this.#buf[this.#len++] = value ? 0xf5 : 0xf4;
  }

  text(value: string): void {
    // One pass for ASCII (names, units); TextEncoder for the rest.
    let ascii = true;
    for (let i = 0; i < value.length; i++) {
      if (value.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.#head(3, value.length);
      this.#reserve(value.length);
      for (let i = 0; i < value.length; i++) this.#buf[this.#len++] = value.charCodeAt(i);
      return;
    }
    const bytes = utf8.encode(value);
    this.#head(3, bytes.length);
    this.#raw(bytes);
  }

  byteString(value: Uint8Array): void {
    this.#head(2, value.length);
    this.#raw(value);
  }

  /**
   * An integer when the value is an integer of at most 32 bits, else the shortest exact float. Larger
   * integers go as a double (exact up to 2^53, the same 9 bytes as a uint64) because generic decoders
   * hand a 64-bit integer back as a BigInt, which JavaScript arithmetic refuses. Finite values only.
   */
  number(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`value must be a finite number, got ${value}`);
    if (Number.isInteger(value) && Math.abs(value) <= 0xffff_ffff && !Object.is(value, -0)) {
      if (value >= 0) this.#head(0, value);
      else this.#head(1, -1 - value);
      return;
    }
    this.float(value);
  }

  /**
   * A safe integer (|n| < 2^53) as a CBOR integer of any width (a `1b` head above 2^32, which some
   * decoders hand back as a BigInt); anything else as `number()` would write it.
   */
  integerOrFloat(value: number): void {
    if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
      if (value >= 0) this.#head(0, value);
      else this.#head(1, -1 - value);
      return;
    }
    this.number(value);
  }

  /** The shortest of half, single and double precision that holds `value` exactly. */
  float(value: number): void {
    const half = exactHalf(value);
    if (half !== undefined) {
      this.#reserve(3);
      this.#buf[this.#len++] = 0xf9;
      this.#view.setUint16(this.#len, half);
      this.#len += 2;
    } else if (Math.fround(value) === value) {
      this.#reserve(5);
      this.#buf[this.#len++] = 0xfa;
      this.#view.setFloat32(this.#len, value);
      this.#len += 4;
    } else {
      this.#reserve(9);
      this.#buf[this.#len++] = 0xfb;
      this.#view.setFloat64(this.#len, value);
      this.#len += 8;
    }
  }

  #head(major: number, n: number): void {
    this.#reserve(9);
    const m = major << 5;
    if (n < 24) {
      this.#buf[this.#len++] = m | n;
    } else if (n < 0x100) {
      this.#buf[this.#len++] = m | 24;
      this.#buf[this.#len++] = n;
    } else if (n < 0x10000) {
      this.#buf[this.#len++] = m | 25;
      this.#view.setUint16(this.#len, n);
      this.#len += 2;
    } else if (n < 0x100000000) {
      this.#buf[this.#len++] = m | 26;
      this.#view.setUint32(this.#len, n);
      this.#len += 4;
    } else {
      this.#buf[this.#len++] = m | 27;
      this.#view.setBigUint64(this.#len, BigInt(n));
      this.#len += 8;
    }
  }

  #raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

const utf8 = new TextEncoder();
const f32 = new DataView(new ArrayBuffer(4));

/** The IEEE 754 half-precision bits of `value` if it converts exactly, else undefined (RFC 8949 App. D). */
export function exactHalf(value: number): number | undefined {
  if (Math.fround(value) !== value) return undefined;
  f32.setFloat32(0, value);
  const bits = f32.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0 && mant === 0) return sign; // ±0
  const e = exp - 127;
  if (e >= -14 && e <= 15) {
    if ((mant & 0x1fff) !== 0) return undefined;
    return sign | ((e + 15) << 10) | (mant >>> 13);
  }
  if (e >= -24 && e < -14) {
    // Subnormal half: value = m · 2^-24 with m < 1024.
    const shift = -1 - e; // 13 + (-14 - e)
    const full = 0x800000 | mant;
    if ((full & ((1 << shift) - 1)) !== 0) return undefined;
    return sign | (full >>> shift);
  }
  return undefined;
}
