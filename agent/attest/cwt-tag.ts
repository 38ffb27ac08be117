/**
 * The CWT CBOR tag (RFC 8392 §6, tag 61): a CWT "can be" tagged so a receiver knows it is one, as
 * `61(18([...]))` — the CWT tag prefixed to the tagged COSE object, never replacing it. Evidence is a
 * CWT (an EAT, RFC 9711), so a verifier that received it from another attester toolchain may see the
 * wrapper; `unwrapCwtTag` strips it and insists that what it wraps is a COSE_Sign1 (tag 18), the only
 * structure the device profile signs. Bytes without the wrapper pass through unchanged. Any head width
 * is accepted for the tag number (preferred serialization writes `d8 3d`); hostile bytes never throw.
 */

export const CWT_TAG = 61;
const COSE_SIGN1_TAG = 18;

export type UnwrapResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

export function unwrapCwtTag(bytes: Uint8Array): UnwrapResult {
  const outer = tagHead(bytes);
  if (outer?.tag !== CWT_TAG) return { ok: true, bytes };
  const inner = bytes.subarray(outer.length);
  if (tagHead(inner)?.tag !== COSE_SIGN1_TAG) {
    return { ok: false, reason: `the CWT tag (${CWT_TAG}) must wrap a COSE_Sign1 (tag ${COSE_SIGN1_TAG})` };
  }
  return { ok: true, bytes: inner };
}

/** The tag number and head length of a tag head (major type 6) at the start, if there is one. */
function tagHead(bytes: Uint8Array): { tag: number; length: number } | undefined {
  const initial = bytes[0];
  if (initial === undefined || initial >> 5 !== 6) return undefined;
  const info = initial & 0x1f;
  if (info < 24) return { tag: info, length: 1 };
  const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (width === 0 || bytes.length < 1 + width) return undefined;
  let tag = 0;
  for (let i = 1; i <= width; i++) tag = tag * 256 + bytes[i]!;
  return { tag, length: 1 + width };
}
