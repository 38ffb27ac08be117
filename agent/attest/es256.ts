/**
 * ECDSA P-256 with SHA-256 (COSE ES256) over raw bytes, by node:crypto: what a TPM identity signs
 * with. Public keys are uncompressed SEC1 points (`04 || x || y`), signatures fixed-length `r || s`.
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';

const COORD_BYTES = 32;

/**
 * Verifies `r || s` over SHA-256(message). High S is accepted: a TPM does not normalise s and COSE
 * does not require it (RFC 9053 §2.1). False for anything that is no key or no signature; never throws.
 */
export function es256Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (
    signature.length !== 2 * COORD_BYTES ||
    publicKey.length !== 1 + 2 * COORD_BYTES ||
    publicKey[0] !== 4
  ) {
    return false;
  }
  try {
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(publicKey.subarray(1, 33)).toString('base64url'),
      y: Buffer.from(publicKey.subarray(33)).toString('base64url'),
    };
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    return nodeVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false; // a point off the curve is a failed signature, not an error
  }
}

/**
 * ECDSA DER (`SEQUENCE { r INTEGER, s INTEGER }`, as `tpm2_sign -f plain` writes) to `r || s`.
 * Throws for anything else: this parses what our own TPM just wrote.
 */
export function ecdsaDerToRaw(der: Uint8Array): Uint8Array {
  const bad = (why: string): never => {
    throw new Error(`not a DER ECDSA P-256 signature: ${why}`);
  };
  // A P-256 signature is at most 72 bytes, so every length is in DER's one-byte short form.
  if (der[0] !== 0x30 || der[1] === undefined || der[1] + 2 !== der.length) bad('not one SEQUENCE');
  const raw = new Uint8Array(2 * COORD_BYTES);
  let at = 2;
  for (const offset of [0, COORD_BYTES]) {
    const length = der[at + 1] ?? 0;
    if (der[at] !== 0x02 || length < 1 || at + 2 + length > der.length) bad('not two INTEGERs');
    let value = der.subarray(at + 2, at + 2 + length);
    // A leading zero keeps a high-bit value positive; it is not part of the 32-byte coordinate.
    while (value.length > COORD_BYTES && value[0] === 0) value = value.subarray(1);
    if (value.length > COORD_BYTES) bad('an INTEGER longer than 32 bytes');
    raw.set(value, offset + COORD_BYTES - value.length);
    at += 2 + length;
  }
  if (at !== der.length) bad('bytes after the INTEGERs');
  return raw;
}
