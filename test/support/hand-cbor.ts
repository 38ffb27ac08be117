/**
 * CBOR written by hand (RFC 8949 §3), independent of cbor-x: tests build COSE structures and hostile
 * variants byte by byte with it, so a bug in our encoder cannot hide behind the same bug in the check.
 * Shortest-form heads only, unless a test asks for a longer one with `headOf(major, n, width)`.
 */
import { concatBytes } from './concat-bytes.js';

export function headOf(major: number, n: number, width?: 1 | 2 | 4 | 8): Uint8Array {
  const w = width ?? (n < 24 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 4 : 8);
  if (w === 0) return Uint8Array.of((major << 5) | n);
  const out = new Uint8Array(1 + w);
  out[0] = (major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[w];
  let v = BigInt(n);
  for (let i = w; i >= 1; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export const cbor = {
  uint: (n: number) => headOf(0, n),
  nint: (n: number) => headOf(1, -1 - n),
  bstr: (b: Uint8Array) => concatBytes([headOf(2, b.length), b]),
  tstr: (s: string) => {
    const b = new TextEncoder().encode(s);
    return concatBytes([headOf(3, b.length), b]);
  },
  array: (items: Uint8Array[]) => concatBytes([headOf(4, items.length), ...items]),
  map: (pairs: [Uint8Array, Uint8Array][]) => concatBytes([headOf(5, pairs.length), ...pairs.flat()]),
  tag: (tag: number, item: Uint8Array) => concatBytes([headOf(6, tag), item]),
  nil: Uint8Array.of(0xf6),
};

export function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}
