/**
 * Joins byte chunks into one `Uint8Array`: what a reader collected chunk by chunk, or frames laid end to
 * end to make a stream. Unlike `Buffer.concat` it gives a plain `Uint8Array`, so it compares `toEqual`
 * with the bytes the code under test produces.
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
