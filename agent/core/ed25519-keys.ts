/**
 * Ed25519 keys: generation, the COSE key id, and PEM files as `openssl genpkey -algorithm ed25519`
 * writes them (PKCS#8 private, SPKI public — RFC 8410). Keys travel inside the agent as raw bytes: a
 * 32-byte seed (RFC 8032 §5.1.5 "private key") and a 32-byte encoded point. PEM text is untrusted input,
 * so parsing returns a result; a wrong-length key handed in by our own code is misuse and throws.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ed25519Generate, ed25519KeyObject, ed25519PublicKey } from './ed25519.js';

export const ED25519_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
/** Length of every COSE kid in edge-agent (Ed25519 and the device's P-256 key alike). */
export const KID_BYTES = 8;

export interface KeyPair {
  /** The 32-byte seed. */
  readonly privateKey: Uint8Array;
  /** The 32-byte encoded public point. */
  readonly publicKey: Uint8Array;
}

/** A 32-byte seed, or anything carrying one (a `KeyPair`). */
export type PrivateKeyLike = Uint8Array | { readonly privateKey: Uint8Array };

export type PemResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export function generateKeyPair(): KeyPair {
  const { seed, publicKey } = ed25519Generate();
  return { privateKey: seed, publicKey };
}

/** The seed inside a `PrivateKeyLike`; throws TypeError naming `param` if it is not 32 bytes. */
export function seedOf(key: PrivateKeyLike, param = 'privateKey'): Uint8Array {
  const seed = key instanceof Uint8Array ? key : key?.privateKey;
  assertKeyBytes(seed, param);
  return seed;
}

export function publicKeyOf(key: PrivateKeyLike): Uint8Array {
  return ed25519PublicKey(seedOf(key));
}

/** COSE key id used across edge-agent: the first 8 bytes of SHA-256 over the raw public key. */
export function kidOf(publicKey: Uint8Array): Uint8Array {
  assertKeyBytes(publicKey, 'publicKey');
  const digest = createHash('sha256').update(publicKey).digest();
  return new Uint8Array(digest.subarray(0, KID_BYTES));
}

export function assertKeyBytes(key: unknown, param: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== ED25519_KEY_BYTES) {
    const got = key instanceof Uint8Array ? `${key.length} bytes` : typeof key;
    throw new TypeError(`${param} must be a ${ED25519_KEY_BYTES}-byte Uint8Array, got ${got}`);
  }
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), byte-identical to what openssl writes for the seed. */
export function privateKeyToPem(key: PrivateKeyLike): string {
  return ed25519KeyObject(seedOf(key)).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as `openssl pkey -pubout` writes it. */
export function publicKeyToPem(publicKey: Uint8Array): string {
  assertKeyBytes(publicKey, 'publicKey');
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey) };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

/** Parses a PKCS#8 Ed25519 private key (PEM or DER). Anything else is `{ ok: false }`. */
export function parsePrivateKeyPem(text: string | Uint8Array): PemResult<KeyPair> {
  let key: KeyObject;
  try {
    key = toKeyObject(text, 'private');
  } catch (e) {
    return { ok: false, reason: `not a private key: ${shortMessage(e)}` };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return {
      ok: false,
      reason: `expected an Ed25519 private key, got ${key.asymmetricKeyType ?? 'unknown'}`,
    };
  }
  const jwk = key.export({ format: 'jwk' });
  const privateKey = fromB64url(jwk.d);
  const publicKey = fromB64url(jwk.x);
  if (privateKey?.length !== ED25519_KEY_BYTES || publicKey?.length !== ED25519_KEY_BYTES) {
    return { ok: false, reason: 'malformed Ed25519 private key' };
  }
  return { ok: true, value: { privateKey, publicKey } };
}

/**
 * Parses an SPKI Ed25519 public key (PEM or DER). A private key is accepted too and yields its public
 * half, so `--key fleet.pem` works where a public key is wanted.
 */
export function parsePublicKeyPem(text: string | Uint8Array): PemResult<Uint8Array> {
  let key: KeyObject;
  try {
    key = toKeyObject(text, 'public');
  } catch (e) {
    return { ok: false, reason: `not a public key: ${shortMessage(e)}` };
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    return { ok: false, reason: `expected an Ed25519 public key, got ${key.asymmetricKeyType ?? 'unknown'}` };
  }
  const publicKey = fromB64url(key.export({ format: 'jwk' }).x);
  if (publicKey?.length !== ED25519_KEY_BYTES) return { ok: false, reason: 'malformed Ed25519 public key' };
  return { ok: true, value: publicKey };
}

function toKeyObject(text: string | Uint8Array, kind: 'private' | 'public'): KeyObject {
  const pem = typeof text === 'string' ? text : Buffer.from(text).toString('latin1');
  if (typeof text === 'string' || pem.includes('-----BEGIN')) {
    return kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  }
  // DER: node needs the container type; PKCS#8 and SPKI are the only ones we read.
  const key = Buffer.from(text);
  if (guessDerType(text) === 'spki') {
    if (kind === 'private') throw new Error('this is a public key');
    return createPublicKey({ key, format: 'der', type: 'spki' });
  }
  const privateKey = createPrivateKey({ key, format: 'der', type: 'pkcs8' });
  return kind === 'private' ? privateKey : createPublicKey(privateKey);
}

function guessDerType(der: Uint8Array): 'pkcs8' | 'spki' {
  // An SPKI SEQUENCE opens with the AlgorithmIdentifier SEQUENCE (0x30); PKCS#8 with the version INTEGER.
  const inner = der[1] !== undefined && der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
  return der[inner] === 0x30 ? 'spki' : 'pkcs8';
}

function shortMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] ?? m;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function fromB64url(text: string | undefined): Uint8Array | undefined {
  return text === undefined ? undefined : new Uint8Array(Buffer.from(text, 'base64url'));
}
