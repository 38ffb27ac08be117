/**
 * Ed25519 (RFC 8032) over raw bytes — a 32-byte seed, a 32-byte encoded point, 64-byte signatures —
 * computed by node:crypto (OpenSSL), not @noble/curves as DESIGN.md first said: in this long-lived
 * process noble's precomputed point tables and its optimised bigint code cost ~10 MB of RSS for a
 * handful of signatures a minute, and OpenSSL signs and verifies ~15× faster. The signatures are the
 * same bytes (Ed25519 is deterministic); the tests check both libraries against each other.
 * Verification is as strict as noble's `zip215: false`: OpenSSL refuses S at or above the group
 * order and non-canonical encodings; it accepts a small-order public key (with which one signature
 * verifies every message), so those are refused here.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';

// The fixed DER prefixes of an Ed25519 PKCS#8 private key and SPKI public key (RFC 8410 §7, §4).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

export function ed25519KeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function ed25519Generate(): { seed: Uint8Array; publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { seed: seedOfKeyObject(privateKey), publicKey: rawPublicKey(publicKey) };
}

export function ed25519PublicKey(seed: Uint8Array | KeyObject): Uint8Array {
  const key = seed instanceof Uint8Array ? ed25519KeyObject(seed) : seed;
  return rawPublicKey(createPublicKey(key));
}

/** Signs with a seed, or with a private KeyObject a signer made once with `ed25519KeyObject`. */
export function ed25519Sign(message: Uint8Array, key: Uint8Array | KeyObject): Uint8Array {
  const privateKey = key instanceof Uint8Array ? ed25519KeyObject(key) : key;
  return new Uint8Array(nodeSign(null, message, privateKey));
}

/** False for a bad signature and for bytes that are no signature or no key at all; never throws. */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== KEY_BYTES) return false;
  if (hasSmallOrder(publicKey)) return false;
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false; // an unencodable point is a failed signature, not an error
  }
}

// Importing a key decodes its point, half the cost of a verification; the keys a device verifies
// against are few (its trust roots), so the last ones used are kept.
const KEY_CACHE_SIZE = 16;
const publicKeys = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('hex');
  let key = publicKeys.get(id);
  if (key) {
    publicKeys.delete(id); // set again below, as the most recently used
  } else {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    const oldest = publicKeys.keys().next();
    if (publicKeys.size >= KEY_CACHE_SIZE && !oldest.done) publicKeys.delete(oldest.value);
  }
  publicKeys.set(id, key);
  return key;
}

// The y coordinates of the eight points of order 1, 2, 4 and 8, canonical and not (p, p + 1):
// libsodium's blocklist. The sign bit of x is ignored, so either sign matches.
const SMALL_ORDER_Y = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => Buffer.from(h, 'hex'));

function hasSmallOrder(publicKey: Uint8Array): boolean {
  return SMALL_ORDER_Y.some((y) => y.every((b, i) => b === (i === 31 ? publicKey[i]! & 0x7f : publicKey[i])));
}

function rawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

function seedOfKeyObject(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length));
}
