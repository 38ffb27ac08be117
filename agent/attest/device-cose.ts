/**
 * COSE_Sign1 (RFC 9052 §4.2, tag 18) by the device key: attestation evidence, command results and
 * (optionally) telemetry and event batches. The profile is core/cose.ts's, widened by one algorithm:
 * protected `{1: alg}` with alg -8 (EdDSA) for a software identity or -7 (ES256) for a TPM identity,
 * unprotected `{4: kid}`. A signed batch also names its payload in the protected header, `{1: alg, 3:
 * content-format}` (RFC 9052 §3.1 `content type` as a CoAP Content-Format number), so the signature
 * covers what the bytes are. An Ed25519 device object is otherwise byte-for-byte what `signCose`
 * makes, so a fleet verifier that only knows core/cose.ts reads it. Verification is against one known
 * device public key: the alg in the protected header must be the one that key signs with and the kid
 * must be that key's, so a mismatch says `key-mismatch` rather than a generic signature failure.
 * Hostile bytes never throw.
 */
import { Decoder, Tag } from 'cbor-x';
import { scanCbor } from '../core/cbor-scan.js';
import {
  COSE_HEADERS,
  COSE_SIGN1_TAG,
  equalBytes,
  plainCbor,
  protectedHeader,
  sigStructure1,
} from '../core/cose.js';
import {
  ALG_EDDSA,
  ALG_ES256,
  algName,
  algOfPublicKey,
  DEVICE_SIGNATURE_BYTES,
  type DeviceAlg,
  type DeviceSigner,
  deviceKidOf,
  verifyDeviceSignature,
} from './device-key.js';

const HDR_ALG = COSE_HEADERS.alg;
const HDR_CRIT = COSE_HEADERS.crit;
const HDR_KID = COSE_HEADERS.kid;
const HDR_CONTENT_TYPE = COSE_HEADERS['content type'];
/** Evidence with a TPM quote is ~1 KB, a command result a few KB; telemetry batches are bounded upstream. */
export const MAX_DEVICE_COSE_BYTES = 1 << 20;
const EMPTY = new Uint8Array(0);
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/** `{1: -8}` and `{1: -7}` in their deterministic encodings. */
const PROTECTED: Readonly<Record<DeviceAlg, Uint8Array>> = {
  [ALG_EDDSA]: protectedHeader(ALG_EDDSA),
  [ALG_ES256]: protectedHeader(ALG_ES256),
};

export interface DeviceCoseOptions {
  readonly externalAad?: Uint8Array;
  readonly maxBytes?: number;
}

export interface DeviceSignOptions extends DeviceCoseOptions {
  /** The payload's CoAP Content-Format, written as protected `content type` (label 3). */
  readonly contentFormat?: number;
}

export async function signDeviceCose1(
  payload: Uint8Array,
  signer: DeviceSigner,
  options: DeviceSignOptions = {},
): Promise<Uint8Array> {
  if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array');
  const cf = options.contentFormat;
  if (cf !== undefined && !(Number.isInteger(cf) && cf >= 0 && cf <= 0xffff)) {
    throw new TypeError(`contentFormat must be a CoAP Content-Format (0..65535), got ${cf}`);
  }
  // Labels in ascending order: the deterministic encoding (RFC 8949 §4.2.1), e.g. a2 01 27 03 18 70.
  const prot =
    cf === undefined
      ? PROTECTED[signer.alg]
      : new Uint8Array(
          plainCbor.encode(
            new Map<number, number>([
              [HDR_ALG, signer.alg],
              [HDR_CONTENT_TYPE, cf],
            ]),
          ),
        );
  const signature = await signer.sign(sigStructure1(prot, options.externalAad ?? EMPTY, payload));
  if (signature.length !== DEVICE_SIGNATURE_BYTES) {
    throw new TypeError(`signer returned a ${signature.length}-byte signature, expected 64`);
  }
  const unprotected = new Map([[HDR_KID, signer.kid]]);
  return new Uint8Array(plainCbor.encode(new Tag([prot, unprotected, payload, signature], COSE_SIGN1_TAG)));
}

export type DeviceCoseCode = 'bad-cose' | 'key-mismatch' | 'bad-signature';

export type DeviceCoseResult =
  | {
      ok: true;
      payload: Uint8Array;
      alg: DeviceAlg;
      kid: Uint8Array;
      /** The protected `content type` (label 3), when the signer named the payload. */
      contentType?: number | string;
    }
  | { ok: false; code: DeviceCoseCode; reason: string };

/** Parses a device COSE_Sign1 and checks its signature against `publicKey` (raw, 32 or 65 bytes). */
export function verifyDeviceCose1(
  bytes: Uint8Array,
  publicKey: Uint8Array,
  options: DeviceCoseOptions = {},
): DeviceCoseResult {
  const expectedAlg = algOfPublicKey(publicKey);
  const parsed = parseDeviceCose1(bytes, options.maxBytes ?? MAX_DEVICE_COSE_BYTES);
  if (!parsed.ok) return { ok: false, code: 'bad-cose', reason: parsed.reason };
  const { prot, alg, kid, payload, signature } = parsed;
  const expectedKid = deviceKidOf(publicKey);
  if (alg !== expectedAlg) {
    return {
      ok: false,
      code: 'key-mismatch',
      reason: `signed with ${algName(alg)} but the key given is ${algName(expectedAlg)}`,
    };
  }
  if (!equalBytes(kid, expectedKid)) {
    return {
      ok: false,
      code: 'key-mismatch',
      reason: `signed by key id ${hexOf(kid)}, not by the key given (${hexOf(expectedKid)})`,
    };
  }
  const tbs = sigStructure1(prot, options.externalAad ?? EMPTY, payload);
  if (!verifyDeviceSignature(publicKey, tbs, signature)) {
    return { ok: false, code: 'bad-signature', reason: `${algName(alg)} signature verification failed` };
  }
  return {
    ok: true,
    payload,
    alg,
    kid,
    ...(parsed.contentType !== undefined ? { contentType: parsed.contentType } : {}),
  };
}

type Parsed =
  | {
      ok: true;
      prot: Uint8Array;
      alg: DeviceAlg;
      kid: Uint8Array;
      payload: Uint8Array;
      signature: Uint8Array;
      contentType: number | string | undefined;
    }
  | { ok: false; reason: string };

function parseDeviceCose1(bytes: Uint8Array, maxBytes: number): Parsed {
  const scan = scanCbor(bytes, {
    maxBytes,
    maxDepth: 8,
    maxItems: 4096,
    topTags: [COSE_SIGN1_TAG],
    allowFloats: true,
  });
  if (!scan.ok) return fail(`malformed CBOR: ${scan.reason}`);
  if (scan.topTag !== COSE_SIGN1_TAG) return fail('not a tagged COSE_Sign1 (18)');
  try {
    const decoded: unknown = decoder.decode(bytes);
    if (!(decoded instanceof Tag) || !Array.isArray(decoded.value) || decoded.value.length !== 4) {
      return fail('COSE_Sign1 must be a 4-element array');
    }
    const [prot, unprot, payload, signature] = decoded.value as unknown[];
    if (!(prot instanceof Uint8Array) || prot.length === 0)
      return fail('protected header must be a non-empty bstr');
    const headers = parseProtected(prot);
    if (!headers.ok) return headers;
    const alg = headers.map.get(HDR_ALG);
    if (alg !== ALG_EDDSA && alg !== ALG_ES256)
      return fail(`protected alg must be EdDSA (-8) or ES256 (-7), got ${String(alg)}`);
    if (!(unprot instanceof Map)) return fail('unprotected header must be a map');
    for (const label of unprot.keys()) {
      if (headers.map.has(label)) return fail(`header ${String(label)} is both protected and unprotected`);
    }
    if (unprot.has(HDR_CRIT)) return fail('crit must be protected');
    const contentType = headers.map.get(HDR_CONTENT_TYPE) ?? unprot.get(HDR_CONTENT_TYPE);
    // RFC 9052 §3.1: tstr / uint — a Content-Format number or a media type.
    if (
      contentType !== undefined &&
      !(typeof contentType === 'string' && contentType.length > 0) &&
      !(typeof contentType === 'number' && Number.isSafeInteger(contentType) && contentType >= 0)
    ) {
      return fail('content type (label 3) must be an unsigned integer or text');
    }
    const kid = headers.map.get(HDR_KID) ?? unprot.get(HDR_KID);
    if (!(kid instanceof Uint8Array) || kid.length === 0 || kid.length > 64)
      return fail('kid (label 4) must be a bstr');
    if (!(payload instanceof Uint8Array))
      return fail('payload must be a bstr (detached payloads are not accepted)');
    if (!(signature instanceof Uint8Array) || signature.length !== DEVICE_SIGNATURE_BYTES) {
      return fail('signature must be a 64-byte bstr');
    }
    return {
      ok: true,
      prot: new Uint8Array(prot),
      alg,
      kid: new Uint8Array(kid),
      payload: new Uint8Array(payload),
      signature: new Uint8Array(signature),
      contentType,
    };
  } catch (e) {
    return fail(`undecodable COSE: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function parseProtected(
  bytes: Uint8Array,
): { ok: true; map: Map<unknown, unknown> } | { ok: false; reason: string } {
  const scan = scanCbor(bytes, { maxBytes: 1024, maxDepth: 4, maxItems: 64 });
  if (!scan.ok) return fail(`malformed protected header: ${scan.reason}`);
  const map: unknown = decoder.decode(bytes);
  if (!(map instanceof Map)) return fail('protected header must encode a map');
  if (map.has(HDR_CRIT)) return fail('protected header lists critical headers we do not understand');
  return { ok: true, map };
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
