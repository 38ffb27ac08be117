/**
 * COSE signed objects (RFC 9052) with EdDSA over Ed25519 (RFC 9053 §2.2, alg -8): COSE_Sign1 (tag 18)
 * for one signer, COSE_Sign (tag 98) for several. Every signature carries protected `{1: -8}` and
 * unprotected `{4: kid}`, kid = first 8 bytes of SHA-256 of the raw public key; the COSE_Sign body
 * protected header is empty. Encoding is plain CBOR (no cbor-x records or typed-array tags) with the
 * protected header in its one canonical form `a1 01 27`. Decoding accepts any well-formed equivalent
 * another implementation may write (§3: a header bstr is verified as received, never re-encoded), but
 * refuses everything outside this profile: untagged or other tags, a missing or different alg, `crit`,
 * a label in both buckets, detached payloads. Hostile bytes yield `{ ok: false, reason }`; misuse
 * (wrong key length, threshold < 1) throws TypeError. Verification counts distinct public keys.
 */
import { Decoder, Encoder, Tag } from 'cbor-x';
import { scanCbor } from './cbor-scan.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import {
  assertKeyBytes,
  ED25519_SIGNATURE_BYTES,
  kidOf,
  type PrivateKeyLike,
  publicKeyOf,
  seedOf,
} from './ed25519-keys.js';

export {
  generateKeyPair,
  type KeyPair,
  kidOf,
  type PrivateKeyLike,
  publicKeyOf,
} from './ed25519-keys.js';

export const COSE_SIGN1_TAG = 18;
export const COSE_SIGN_TAG = 98;
/**
 * The header labels edge-agent reads or writes (RFC 9052 §3.1, IANA "COSE Header Parameters", named as
 * IANA names them); any other label is carried without meaning. One table for every COSE profile of the
 * agent (this module's and the device key's, attest/device-cose.ts), checked against
 * docs/wire-formats.md by a test. `content type` is written only on signed telemetry and events.
 */
export const COSE_HEADERS = { alg: 1, crit: 2, 'content type': 3, kid: 4 } as const;
/**
 * The signature algorithms (IANA "COSE Algorithms"): EdDSA over Ed25519 for everything the fleet signs
 * and for a software device key; ES256 only for a TPM-resident device key (attest/device-key.ts).
 */
export const COSE_ALGORITHMS = { EdDSA: -8, ES256: -7 } as const;
export const COSE_ALG_EDDSA = COSE_ALGORITHMS.EdDSA;
const HDR_ALG = COSE_HEADERS.alg;
const HDR_CRIT = COSE_HEADERS.crit;
const HDR_KID = COSE_HEADERS.kid;
/** Signed objects are small; a manifest with 30 000 chunk hashes still fits. */
export const MAX_COSE_BYTES = 1 << 20;
const MAX_SIGNATURES = 16;

/** Plain CBOR, as DESIGN.md's wire formats demand: interoperable with any CBOR library. */
export const plainCbor = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  mapsAsObjects: false,
  variableMapSize: true,
});
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

const EMPTY = new Uint8Array(0);
/** `{1: -8}` (`a1 01 27`): the deterministic (RFC 8949 §4.2) encoding of our only protected header. */
const PROTECTED_EDDSA = protectedHeader(COSE_ALG_EDDSA);

/** The protected header `{1: alg}` in its one deterministic encoding (`a1 01 27` for -8, `a1 01 26` for -7). */
export function protectedHeader(alg: (typeof COSE_ALGORITHMS)[keyof typeof COSE_ALGORITHMS]): Uint8Array {
  return new Uint8Array(plainCbor.encode(new Map([[HDR_ALG, alg]])));
}

export interface CoseSignature {
  /** The signer's protected header exactly as received. */
  readonly protectedBytes: Uint8Array;
  readonly kid: Uint8Array;
  readonly signature: Uint8Array;
  /** The Sig_structure bytes this signature covers (RFC 9052 §4.4). */
  readonly toBeSigned: Uint8Array;
}

export interface CoseSigned {
  readonly kind: 'sign1' | 'sign';
  readonly payload: Uint8Array;
  readonly signatures: readonly CoseSignature[];
}

export type CoseDecodeResult = { ok: true; value: CoseSigned } | { ok: false; reason: string };

export type CoseVerifyCode = 'bad-cose' | 'bad-signature' | 'unknown-key' | 'below-threshold';

export type CoseVerifyResult =
  | { ok: true; payload: Uint8Array; kids: Uint8Array[]; publicKeys: Uint8Array[] }
  | { ok: false; code: CoseVerifyCode; reason: string };

export interface CoseOptions {
  /** Externally supplied data bound into the signature (RFC 9052 §4.3); empty by default. */
  readonly externalAad?: Uint8Array;
  /** Input size limit for decoding; `MAX_COSE_BYTES` by default. */
  readonly maxBytes?: number;
}

/** Sig_structure for COSE_Sign1: `["Signature1", protected, external_aad, payload]`. */
export function sigStructure1(protectedBytes: Uint8Array, externalAad: Uint8Array, payload: Uint8Array) {
  return plainCbor.encode(['Signature1', protectedBytes, externalAad, payload]) as Uint8Array;
}

/** Sig_structure for COSE_Sign: `["Signature", body_protected, sign_protected, external_aad, payload]`. */
function sigStructure(
  bodyProtected: Uint8Array,
  signProtected: Uint8Array,
  externalAad: Uint8Array,
  payload: Uint8Array,
) {
  return plainCbor.encode(['Signature', bodyProtected, signProtected, externalAad, payload]) as Uint8Array;
}

/** Signs `payload`: one key gives a COSE_Sign1, several a COSE_Sign with one signature each. */
export function signCose(
  payload: Uint8Array,
  keys: readonly PrivateKeyLike[],
  options: CoseOptions = {},
): Uint8Array {
  if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array');
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError('keys must be a non-empty array');
  if (keys.length > MAX_SIGNATURES) throw new TypeError(`keys: at most ${MAX_SIGNATURES} signers`);
  const seeds = keys.map((k, i) => seedOf(k, `keys[${i}]`));
  const aad = options.externalAad ?? EMPTY;
  if (seeds.length === 1) {
    const seed = seeds[0]!;
    const sig = ed25519Sign(sigStructure1(PROTECTED_EDDSA, aad, payload), seed);
    return encodeTagged(COSE_SIGN1_TAG, [PROTECTED_EDDSA, unprotected(seed), payload, sig]);
  }
  const signatures = seeds.map((seed) => {
    const sig = ed25519Sign(sigStructure(EMPTY, PROTECTED_EDDSA, aad, payload), seed);
    return [PROTECTED_EDDSA, unprotected(seed), sig];
  });
  return encodeTagged(COSE_SIGN_TAG, [EMPTY, new Map(), payload, signatures]);
}

function unprotected(seed: Uint8Array): Map<number, Uint8Array> {
  return new Map([[HDR_KID, kidOf(publicKeyOf(seed))]]);
}

function encodeTagged(tag: number, value: unknown[]): Uint8Array {
  return new Uint8Array(plainCbor.encode(new Tag(value, tag)));
}

/** Parses a COSE_Sign1 or COSE_Sign; checks structure and headers, not signatures. */
export function decodeCose(bytes: Uint8Array, options: CoseOptions = {}): CoseDecodeResult {
  try {
    return decodeUnchecked(bytes, options);
  } catch (e) {
    // The scan makes this unreachable in practice; a decoder surprise must still not escape as a throw.
    return { ok: false, reason: `undecodable COSE: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function decodeUnchecked(bytes: Uint8Array, options: CoseOptions): CoseDecodeResult {
  const scan = scanCbor(bytes, {
    maxBytes: options.maxBytes ?? MAX_COSE_BYTES,
    maxDepth: 8,
    maxItems: 4096,
    topTags: [COSE_SIGN1_TAG, COSE_SIGN_TAG],
    allowFloats: true,
  });
  if (!scan.ok) return fail(`malformed CBOR: ${scan.reason}`);
  if (scan.topTag === undefined) return fail('not a tagged COSE_Sign1 (18) or COSE_Sign (98)');
  const decoded: unknown = decoder.decode(bytes);
  if (!(decoded instanceof Tag) || !Array.isArray(decoded.value)) return fail('COSE object is not an array');
  const aad = options.externalAad ?? EMPTY;
  const parts = decoded.value as unknown[];
  if (scan.topTag === COSE_SIGN1_TAG) {
    if (parts.length !== 4) return fail(`COSE_Sign1 has ${parts.length} elements, expected 4`);
    const [prot, unprot, payload, sig] = parts;
    if (!isBytes(payload)) return fail('payload must be a byte string (detached payloads are not accepted)');
    const signer = parseSigner(prot, unprot, sig);
    if (!signer.ok) return signer;
    const { protectedBytes, kid, signature } = signer;
    const toBeSigned = sigStructure1(protectedBytes, aad, payload);
    return {
      ok: true,
      value: {
        kind: 'sign1',
        payload: copy(payload),
        signatures: [{ protectedBytes, kid, signature, toBeSigned }],
      },
    };
  }
  if (parts.length !== 4) return fail(`COSE_Sign has ${parts.length} elements, expected 4`);
  const [bodyProt, bodyUnprot, payload, sigs] = parts;
  if (!isBytes(bodyProt)) return fail('body protected header must be a byte string');
  const bodyHeaders = parseProtected(bodyProt);
  if (!bodyHeaders.ok) return bodyHeaders;
  if (!(bodyUnprot instanceof Map)) return fail('body unprotected header must be a map');
  if (!isBytes(payload)) return fail('payload must be a byte string (detached payloads are not accepted)');
  if (!Array.isArray(sigs) || sigs.length === 0) return fail('COSE_Sign needs a non-empty signatures array');
  if (sigs.length > MAX_SIGNATURES) return fail(`more than ${MAX_SIGNATURES} signatures`);
  const signatures: CoseSignature[] = [];
  for (const s of sigs as unknown[]) {
    if (!Array.isArray(s) || s.length !== 3) return fail('COSE_Signature must be a 3-element array');
    const signer = parseSigner(s[0], s[1], s[2]);
    if (!signer.ok) return signer;
    const { protectedBytes, kid, signature } = signer;
    const toBeSigned = sigStructure(bodyProt, protectedBytes, aad, payload);
    signatures.push({ protectedBytes: protectedBytes, kid, signature, toBeSigned });
  }
  return { ok: true, value: { kind: 'sign', payload: copy(payload), signatures } };
}

type SignerResult =
  | { ok: true; protectedBytes: Uint8Array; kid: Uint8Array; signature: Uint8Array }
  | { ok: false; reason: string };

function parseSigner(prot: unknown, unprot: unknown, sig: unknown): SignerResult {
  if (!isBytes(prot)) return fail('protected header must be a byte string');
  const headers = parseProtected(prot);
  if (!headers.ok) return headers;
  if (headers.map.get(HDR_ALG) !== COSE_ALG_EDDSA) {
    return fail(`protected alg must be EdDSA (-8), got ${String(headers.map.get(HDR_ALG) ?? 'none')}`);
  }
  if (!(unprot instanceof Map)) return fail('unprotected header must be a map');
  for (const label of unprot.keys()) {
    if (headers.map.has(label)) return fail(`header ${String(label)} is both protected and unprotected`);
  }
  if (unprot.has(HDR_CRIT)) return fail('crit must be protected');
  const kid = headers.map.get(HDR_KID) ?? unprot.get(HDR_KID);
  if (!isBytes(kid) || kid.length === 0 || kid.length > 64)
    return fail('kid (label 4) must be a byte string');
  if (!isBytes(sig) || sig.length !== ED25519_SIGNATURE_BYTES) {
    return fail(`signature must be a ${ED25519_SIGNATURE_BYTES}-byte string`);
  }
  return { ok: true, protectedBytes: copy(prot), kid: copy(kid), signature: copy(sig) };
}

function parseProtected(
  bytes: Uint8Array,
): { ok: true; map: Map<unknown, unknown> } | { ok: false; reason: string } {
  // RFC 9052 §3: a zero-length bstr stands for an empty map.
  if (bytes.length === 0) return { ok: true, map: new Map() };
  const scan = scanCbor(bytes, { maxBytes: 1024, maxDepth: 4, maxItems: 64, allowFloats: true });
  if (!scan.ok) return fail(`malformed protected header: ${scan.reason}`);
  const map: unknown = decoder.decode(bytes);
  if (!(map instanceof Map)) return fail('protected header must encode a map');
  // We understand no critical header, so any `crit` list is one we must refuse (§3.1).
  if (map.has(HDR_CRIT)) return fail('protected header lists critical headers we do not understand');
  return { ok: true, map };
}

/**
 * Verifies `bytes` against `keys` (raw public keys): it passes when signatures by at least `threshold`
 * distinct keys verify. Unknown signers and failed signatures are ignored if the threshold is still met
 * (TUF's rule); otherwise the code says why: `bad-signature` if a known key's signature failed,
 * `unknown-key` if no signer was known, else `below-threshold`.
 */
export function verifyCose(
  bytes: Uint8Array,
  keys: readonly Uint8Array[],
  threshold: number,
  options: CoseOptions = {},
): CoseVerifyResult {
  checkKeySet(keys, threshold);
  const decoded = decodeCose(bytes, options);
  if (!decoded.ok) return { ok: false, code: 'bad-cose', reason: decoded.reason };
  return verifySignatures(decoded.value, keys, threshold);
}

/** The signature-counting half of `verifyCose`, for callers that check one object against two key sets. */
export function verifySignatures(
  signed: CoseSigned,
  keys: readonly Uint8Array[],
  threshold: number,
): CoseVerifyResult {
  checkKeySet(keys, threshold);
  const known = keys.map((publicKey) => ({ publicKey, kid: kidOf(publicKey), hex: hex(publicKey) }));
  const valid = new Map<string, { publicKey: Uint8Array; kid: Uint8Array }>();
  let failed = 0;
  let unknown = 0;
  for (const s of signed.signatures) {
    const candidates = known.filter((k) => equalBytes(k.kid, s.kid));
    if (candidates.length === 0) {
      unknown++;
      continue;
    }
    const signer = candidates.find((k) => verifyEd25519(s.signature, s.toBeSigned, k.publicKey));
    if (signer === undefined) failed++;
    else valid.set(signer.hex, signer);
  }
  const signers = [...valid.values()];
  if (signers.length >= threshold) {
    return {
      ok: true,
      payload: signed.payload,
      kids: signers.map((k) => k.kid),
      publicKeys: signers.map((k) => k.publicKey),
    };
  }
  const counted = `${signers.length} of ${threshold} required signatures`;
  if (failed > 0)
    return { ok: false, code: 'bad-signature', reason: `signature verification failed (${counted})` };
  if (signers.length === 0 && unknown > 0) {
    return { ok: false, code: 'unknown-key', reason: `signed by ${unknown} key(s) not in the trusted set` };
  }
  return { ok: false, code: 'below-threshold', reason: `only ${counted} by distinct trusted keys` };
}

function checkKeySet(keys: readonly Uint8Array[], threshold: number): void {
  if (!Array.isArray(keys)) throw new TypeError('keys must be an array of public keys');
  keys.forEach((k, i) => {
    assertKeyBytes(k, `keys[${i}]`);
  });
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new TypeError(`threshold must be an integer >= 1, got ${threshold}`);
  }
}

/** Strict RFC 8032 verification (canonical point and scalar encodings, no ZIP-215 leniency). */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  return ed25519Verify(signature, message, publicKey);
}

export function signEd25519(message: Uint8Array, key: PrivateKeyLike): Uint8Array {
  return ed25519Sign(message, seedOf(key));
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
