/**
 * The device's signing key, whichever backend holds it. A software identity is Ed25519 (COSE alg -8,
 * EdDSA, as everywhere else in edge-agent); a TPM 2.0 has no Ed25519, so a TPM-backed identity is an
 * ECC NIST P-256 key signing ECDSA with SHA-256 (COSE alg -7, ES256, RFC 9053 §2.1). Raw public keys
 * are the 32-byte Ed25519 point, or the 65-byte uncompressed SEC1 point `04 || x || y` for P-256, and
 * the kid is the first 8 bytes of SHA-256 over those raw bytes in both cases (DESIGN.md's rule, applied
 * to either key type). ES256 signatures travel as fixed-length `r || s` (64 bytes), never DER.
 * PEM text is untrusted input and parses to a result; a wrong-length key from our own code throws.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { COSE_ALGORITHMS } from '../core/cose.js';
import { ed25519Verify } from '../core/ed25519.js';
import { KID_BYTES } from '../core/ed25519-keys.js';
import { es256Verify } from './es256.js';

export const ALG_EDDSA = COSE_ALGORITHMS.EdDSA;
export const ALG_ES256 = COSE_ALGORITHMS.ES256;
export type DeviceAlg = typeof ALG_EDDSA | typeof ALG_ES256;

const ED25519_BYTES = 32;
const P256_POINT_BYTES = 65;
export const DEVICE_SIGNATURE_BYTES = 64;

/** Something that signs with the device key: a file-backed Ed25519 key or a TPM-resident P-256 key. */
export interface DeviceSigner {
  readonly alg: DeviceAlg;
  /** Raw public key: 32-byte Ed25519 point, or 65-byte uncompressed P-256 point. */
  readonly publicKey: Uint8Array;
  /** First 8 bytes of SHA-256 over `publicKey`. */
  readonly kid: Uint8Array;
  /** Signs `message` (for COSE, the Sig_structure): 64 bytes, Ed25519 or ES256 `r || s`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export function algName(alg: DeviceAlg): 'EdDSA' | 'ES256' {
  return alg === ALG_EDDSA ? 'EdDSA' : 'ES256';
}

/** The algorithm a raw public key signs with, from its length; throws TypeError for anything else. */
export function algOfPublicKey(publicKey: Uint8Array): DeviceAlg {
  if (publicKey instanceof Uint8Array && publicKey.length === ED25519_BYTES) return ALG_EDDSA;
  if (publicKey instanceof Uint8Array && publicKey.length === P256_POINT_BYTES && publicKey[0] === 0x04) {
    return ALG_ES256;
  }
  const got = publicKey instanceof Uint8Array ? `${publicKey.length} bytes` : typeof publicKey;
  throw new TypeError(`publicKey must be a 32-byte Ed25519 or 65-byte uncompressed P-256 point, got ${got}`);
}

export function deviceKidOf(publicKey: Uint8Array): Uint8Array {
  algOfPublicKey(publicKey);
  return new Uint8Array(createHash('sha256').update(publicKey).digest().subarray(0, KID_BYTES));
}

/** Strict verification: Ed25519 per RFC 8032 (no ZIP-215), ES256 over SHA-256 accepting high-S. */
export function verifyDeviceSignature(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== DEVICE_SIGNATURE_BYTES) return false;
  try {
    const alg = algOfPublicKey(publicKey);
    return alg === ALG_EDDSA
      ? ed25519Verify(signature, message, publicKey)
      : es256Verify(signature, message, publicKey);
  } catch {
    return false; // a key of neither type
  }
}

/** SPKI PEM of a raw device public key (what `openssl pkey -pubout` writes for either key type). */
export function devicePublicKeyToPem(publicKey: Uint8Array): string {
  const alg = algOfPublicKey(publicKey);
  const jwk =
    alg === ALG_EDDSA
      ? { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey) }
      : { kty: 'EC', crv: 'P-256', x: b64url(publicKey.subarray(1, 33)), y: b64url(publicKey.subarray(33)) };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

export type ParsedKey = { ok: true; publicKey: Uint8Array; alg: DeviceAlg } | { ok: false; reason: string };

/**
 * Parses an SPKI public key (PEM or DER) that is Ed25519 or P-256; a private key yields its public
 * half. Anything else (RSA, other curves, garbage) is `{ ok: false }`.
 */
export function parseDevicePublicKey(text: string | Uint8Array): ParsedKey {
  let key: KeyObject;
  try {
    key = toPublicKeyObject(text);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    return { ok: false, reason: `not a public key: ${m.split('\n')[0]}` };
  }
  return rawPublicKeyOf(key);
}

function rawPublicKeyOf(key: KeyObject): ParsedKey {
  const jwk = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType === 'ed25519' && jwk.x) {
    const publicKey = fromB64url(jwk.x);
    if (publicKey.length === ED25519_BYTES) return { ok: true, publicKey, alg: ALG_EDDSA };
  }
  if (key.asymmetricKeyType === 'ec' && jwk.crv === 'P-256' && jwk.x && jwk.y) {
    const x = fromB64url(jwk.x);
    const y = fromB64url(jwk.y);
    if (x.length === 32 && y.length === 32) {
      const publicKey = new Uint8Array(P256_POINT_BYTES);
      publicKey[0] = 0x04;
      publicKey.set(x, 1);
      publicKey.set(y, 33);
      return { ok: true, publicKey, alg: ALG_ES256 };
    }
  }
  const what = key.asymmetricKeyType === 'ec' ? `EC ${jwk.crv ?? '?'}` : (key.asymmetricKeyType ?? 'unknown');
  return { ok: false, reason: `expected an Ed25519 or P-256 public key, got ${what}` };
}

function toPublicKeyObject(text: string | Uint8Array): KeyObject {
  const pem = typeof text === 'string' ? text : Buffer.from(text).toString('latin1');
  if (typeof text === 'string' || pem.includes('-----BEGIN')) return createPublicKey(pem);
  return createPublicKey({ key: Buffer.from(text), format: 'der', type: 'spki' });
}

/** RFC 4648 §6 base32, lower case, no padding: 8 bytes of kid become a 13-character device id. */
export function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function fromB64url(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64url'));
}
