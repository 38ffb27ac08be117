/**
 * A strict well-formedness check for untrusted CBOR, run before cbor-x sees the bytes. cbor-x is a fast
 * general decoder with extensions (records, shared references, packed values, `Error`/`RegExp`
 * construction via tag 27) that signed-object parsing must never reach, and it silently keeps the last
 * of duplicate map keys. This scan walks the item structure once (RFC 8949 §3) and rejects: truncation,
 * trailing bytes, reserved additional-info values, indefinite lengths, tags other than the allowed ones
 * at the top, simple values other than false/true/null, floats unless allowed, invalid UTF-8 text,
 * map keys other than integers and text, duplicate map keys (§5.6), nesting deeper than `maxDepth`, and more than `maxItems` data items.
 * Lengths are checked against the remaining input before anything is allocated.
 */

export interface CborScanLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxItems: number;
  /** Tags accepted on the top-level item only (e.g. 18 for COSE_Sign1). */
  readonly topTags?: readonly number[];
  readonly allowFloats?: boolean;
}

export type CborScanResult = { ok: true; topTag: number | undefined } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

class ScanError extends Error {}

export function scanCbor(bytes: Uint8Array, limits: CborScanLimits): CborScanResult {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'not a byte array' };
  if (bytes.length === 0) return { ok: false, reason: 'empty input' };
  if (bytes.length > limits.maxBytes) {
    return { ok: false, reason: `${bytes.length} bytes exceeds the limit of ${limits.maxBytes}` };
  }
  const scanner = new Scanner(bytes, limits);
  try {
    const topTag = scanner.top();
    return { ok: true, topTag };
  } catch (e) {
    if (e instanceof ScanError) return { ok: false, reason: e.message };
    throw e;
  }
}

class Scanner {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #limits: CborScanLimits;
  #pos = 0;
  #items = 0;

  constructor(bytes: Uint8Array, limits: CborScanLimits) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#limits = limits;
  }

  top(): number | undefined {
    let topTag: number | undefined;
    if (this.#need(1) && this.#bytes[this.#pos]! >> 5 === 6) {
      const { arg } = this.#head();
      if (!this.#limits.topTags?.includes(arg)) throw new ScanError(`unexpected tag ${arg}`);
      topTag = arg;
    }
    this.#item(0);
    if (this.#pos !== this.#bytes.length) {
      throw new ScanError(`${this.#bytes.length - this.#pos} trailing bytes after the CBOR item`);
    }
    return topTag;
  }

  #need(n: number): true {
    if (this.#bytes.length - this.#pos < n) throw new ScanError('truncated CBOR');
    return true;
  }

  /** Reads an initial byte and its argument. Arguments above 2^53 are reported as Infinity. */
  #head(): { major: number; info: number; arg: number } {
    this.#need(1);
    const initial = this.#bytes[this.#pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info < 24) return { major, info, arg: info };
    switch (info) {
      case 24:
        this.#need(1);
        return { major, info, arg: this.#bytes[this.#pos++]! };
      case 25:
        this.#need(2);
        this.#pos += 2;
        return { major, info, arg: this.#view.getUint16(this.#pos - 2) };
      case 26:
        this.#need(4);
        this.#pos += 4;
        return { major, info, arg: this.#view.getUint32(this.#pos - 4) };
      case 27: {
        this.#need(8);
        const hi = this.#view.getUint32(this.#pos);
        const lo = this.#view.getUint32(this.#pos + 4);
        this.#pos += 8;
        return { major, info, arg: hi >= 0x200000 ? Number.POSITIVE_INFINITY : hi * 2 ** 32 + lo };
      }
      case 31:
        throw new ScanError(major === 7 ? 'unexpected break' : 'indefinite-length items are not accepted');
      default:
        throw new ScanError(`reserved additional information ${info}`);
    }
  }

  /**
   * A map key, which must be an integer or a text string (COSE labels, manifest fields), as a string that
   * is equal for equal keys whatever their head encoding — so a long-form "v" cannot shadow a short one.
   */
  #key(): string {
    if (++this.#items > this.#limits.maxItems) {
      throw new ScanError(`more than ${this.#limits.maxItems} data items`);
    }
    const { major, arg } = this.#head();
    if (major === 0 || major === 1) return `${major}:${arg}`;
    if (major !== 3) throw new ScanError('map keys must be integers or text strings');
    if (arg > this.#bytes.length - this.#pos) throw new ScanError('truncated CBOR string');
    const text = this.#bytes.subarray(this.#pos, this.#pos + arg);
    this.#pos += arg;
    try {
      return `3:${utf8.decode(text)}`;
    } catch {
      throw new ScanError('text string is not valid UTF-8');
    }
  }

  #item(depth: number): void {
    if (depth > this.#limits.maxDepth) throw new ScanError(`nesting deeper than ${this.#limits.maxDepth}`);
    if (++this.#items > this.#limits.maxItems) {
      throw new ScanError(`more than ${this.#limits.maxItems} data items`);
    }
    const { major, info, arg } = this.#head();
    switch (major) {
      case 0:
      case 1:
        return;
      case 2:
      case 3: {
        if (arg > this.#bytes.length - this.#pos) throw new ScanError('truncated CBOR string');
        const start = this.#pos;
        this.#pos += arg;
        if (major === 3) {
          try {
            utf8.decode(this.#bytes.subarray(start, this.#pos));
          } catch {
            throw new ScanError('text string is not valid UTF-8');
          }
        }
        return;
      }
      case 4:
        // Every item takes at least one byte: a count beyond the remaining input is truncation.
        if (arg > this.#bytes.length - this.#pos) throw new ScanError('truncated CBOR array');
        for (let i = 0; i < arg; i++) this.#item(depth + 1);
        return;
      case 5: {
        if (arg * 2 > this.#bytes.length - this.#pos) throw new ScanError('truncated CBOR map');
        const keys = new Set<string>();
        for (let i = 0; i < arg; i++) {
          const keyId = this.#key();
          if (keys.has(keyId)) throw new ScanError('duplicate map key');
          keys.add(keyId);
          this.#item(depth + 1);
        }
        return;
      }
      case 6:
        throw new ScanError(`unexpected tag ${arg}`);
      default:
        if (info >= 20 && info <= 22) return; // false, true, null
        if (info >= 25 && info <= 27) {
          if (this.#limits.allowFloats) return;
          throw new ScanError('floating-point values are not accepted');
        }
        throw new ScanError(`unexpected simple value ${arg}`);
    }
  }
}
