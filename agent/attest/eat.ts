/**
 * The attestation evidence claims set: an EAT (RFC 9711) in CBOR, i.e. a CWT claims map with integer
 * keys, signed as COSE_Sign1 by the device key (evidence.ts). Claim keys as registered in the IANA CWT
 * Claims registry by RFC 9711 (§ of RFC 9711 in brackets) and RFC 8392:
 *   2 sub (RFC 8392 §3.1.2): the device id · 6 iat (RFC 8392 §3.1.6; RFC 9711 §4.3.1)
 *   10 eat_nonce (§4.1): the verifier's nonce, 8..64 bytes; read also as §4.1's array of two or more
 *      such nonces (`nonce-type / [ 2* nonce-type ]`), which the device never writes
 *   256 ueid (§4.2.1): type 0x01 (RAND) + SHA-256 of the device public key (33 bytes)
 *   261 uptime (§4.2.11): seconds since the system booted
 *   265 eat_profile (§4.3.2): `EAT_PROFILE`, which names this layout and the private claims below
 *   267 bootcount (§4.2.12) · 268 bootseed (§4.2.13): the kernel's boot id (16 bytes), same all boot
 *   270 swname (§4.2.6): "edge-agent" · 271 swversion (§4.2.7): [version, 16384 (semver, CoSWID)]
 *   273 measurements (§4.2.16): [+ [content-format, bstr]], each entry content-format 60
 *       (application/cbor) holding `{"name": tstr, "digest": [-16 (SHA-256, RFC 9054), bstr]}`
 * Private-use claims (keys below -65536, RFC 8392 §9.1): -70001 the last update rolled back (bool),
 * -70002 the TPM quote (tpm-quote.ts) as `{"ak", "attest", "sig", "pcr", "value"}`.
 */
import { Decoder } from 'cbor-x';
import { scanCbor } from '../core/cbor-scan.js';
import { plainCbor } from '../core/cose.js';
import type { TpmQuote } from './tpm-quote.js';

export const CLAIM = {
  sub: 2,
  iat: 6,
  nonce: 10,
  ueid: 256,
  uptime: 261,
  eatProfile: 265,
  bootCount: 267,
  bootSeed: 268,
  swName: 270,
  swVersion: 271,
  measurements: 273,
  rolledBack: -70001,
  tpmQuote: -70002,
} as const;

export const EAT_PROFILE = 'tag:edge-agent.invalid,2025:eat-v1';
/** CoAP Content-Format for application/cbor (RFC 7049 §7.4 / RFC 8949 §9.5). */
export const CF_APPLICATION_CBOR = 60;
/** COSE algorithm id of SHA-256 (RFC 9054 §2.1). */
export const COSE_SHA256 = -16;
/** CoSWID version-scheme "semver" (RFC 9393 §4.1). */
export const VERSION_SCHEME_SEMVER = 16384;
/** nonce-type = bstr .size (8..64) (RFC 9711 §4.1). */
export const MIN_EAT_NONCE_BYTES = 8;
export const MAX_EAT_NONCE_BYTES = 64;
/** UEID type RAND (RFC 9711 §4.2.1.1). */
export const UEID_RAND = 0x01;

export interface Measurement {
  /** What was measured: `agent` (bundle), an OTA component (`rootfs`), `config`, `board`. */
  readonly name: string;
  /** SHA-256, 32 bytes. */
  readonly digest: Uint8Array;
}

export interface EvidenceClaims {
  /** One nonce as the device writes it, or (RFC 9711 §4.1) several a verifier may have had put in. */
  readonly nonce: Uint8Array | readonly Uint8Array[];
  readonly ueid: Uint8Array;
  readonly deviceId: string;
  /** POSIX seconds by the device's clock (may be wrong before NTP). */
  readonly iat: number;
  readonly profile: string;
  readonly swName: string;
  readonly swVersion: string;
  readonly measurements: readonly Measurement[];
  readonly uptimeS: number;
  readonly bootCount: number;
  readonly bootSeed: Uint8Array;
  readonly rolledBack?: boolean | undefined;
  readonly tpmQuote?: TpmQuote | undefined;
}

const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

export function encodeClaims(c: EvidenceClaims): Uint8Array {
  const measurements = c.measurements.map((m) => [
    CF_APPLICATION_CBOR,
    plainCbor.encode(
      new Map<string, unknown>([
        ['name', m.name],
        ['digest', [COSE_SHA256, m.digest]],
      ]),
    ),
  ]);
  const entries: [number, unknown][] = [
    [CLAIM.sub, c.deviceId],
    [CLAIM.iat, c.iat],
    [CLAIM.nonce, c.nonce],
    [CLAIM.ueid, c.ueid],
    [CLAIM.uptime, c.uptimeS],
    [CLAIM.eatProfile, c.profile],
    [CLAIM.bootCount, c.bootCount],
    [CLAIM.bootSeed, c.bootSeed],
    [CLAIM.swName, c.swName],
    [CLAIM.swVersion, [c.swVersion, VERSION_SCHEME_SEMVER]],
    [CLAIM.measurements, measurements],
  ];
  if (c.rolledBack !== undefined) entries.push([CLAIM.rolledBack, c.rolledBack]);
  if (c.tpmQuote) {
    const q = c.tpmQuote;
    entries.push([
      CLAIM.tpmQuote,
      new Map<string, unknown>([
        ['ak', q.ak],
        ['pcr', q.pcr],
        ['sig', q.signature],
        ['value', q.value],
        ['attest', q.attest],
      ]),
    ]);
  }
  // Deterministic order (RFC 8949 §4.2.1): non-negative keys ascend, then negative keys by magnitude.
  entries.sort(([a], [b]) => (a >= 0 !== b >= 0 ? (a >= 0 ? -1 : 1) : Math.abs(a) - Math.abs(b)));
  return new Uint8Array(plainCbor.encode(new Map(entries)));
}

export type ClaimsResult = { ok: true; claims: EvidenceClaims } | { ok: false; reason: string };

/** Strictly decodes a claims set; every claim this profile writes must be there with its type. */
export function decodeClaims(bytes: Uint8Array): ClaimsResult {
  const scan = scanCbor(bytes, { maxBytes: 64 * 1024, maxDepth: 6, maxItems: 1024 });
  if (!scan.ok) return { ok: false, reason: `malformed claims CBOR: ${scan.reason}` };
  try {
    const map: unknown = decoder.decode(bytes);
    if (!(map instanceof Map)) return { ok: false, reason: 'claims set is not a CBOR map' };
    const get = <T>(key: number, name: string, check: (v: unknown) => v is T): T => {
      const v = map.get(key);
      if (!check(v)) throw new ClaimError(`claim ${name} (${key}) is missing or malformed`);
      return v;
    };
    const swVersion = get(CLAIM.swVersion, 'swversion', isArray);
    if (typeof swVersion[0] !== 'string') throw new ClaimError('claim swversion (271) must start with text');
    const rolledBack = map.get(CLAIM.rolledBack);
    if (rolledBack !== undefined && typeof rolledBack !== 'boolean')
      throw new ClaimError('claim -70001 must be a bool');
    const claims: EvidenceClaims = {
      deviceId: get(CLAIM.sub, 'sub', isText),
      iat: get(CLAIM.iat, 'iat', isUint),
      nonce: decodeNonce(map.get(CLAIM.nonce)),
      ueid: get(CLAIM.ueid, 'ueid', isBytes),
      uptimeS: get(CLAIM.uptime, 'uptime', isUint),
      profile: get(CLAIM.eatProfile, 'eat_profile', isText),
      bootCount: get(CLAIM.bootCount, 'bootcount', isUint),
      bootSeed: get(CLAIM.bootSeed, 'bootseed', isBytes),
      swName: get(CLAIM.swName, 'swname', isText),
      swVersion: swVersion[0],
      measurements: get(CLAIM.measurements, 'measurements', isArray).map(decodeMeasurement),
      ...(rolledBack !== undefined ? { rolledBack } : {}),
      ...(map.has(CLAIM.tpmQuote) ? { tpmQuote: decodeQuote(map.get(CLAIM.tpmQuote)) } : {}),
    };
    return { ok: true, claims };
  } catch (e) {
    return { ok: false, reason: e instanceof ClaimError ? e.message : `undecodable claims: ${String(e)}` };
  }
}

/** RFC 9711 §4.1: `nonce-type / [ 2* nonce-type ]`, nonce-type = `bstr .size (8..64)`. */
function decodeNonce(v: unknown): Uint8Array | Uint8Array[] {
  const isNonce = (n: unknown): n is Uint8Array =>
    n instanceof Uint8Array && n.length >= MIN_EAT_NONCE_BYTES && n.length <= MAX_EAT_NONCE_BYTES;
  if (isNonce(v)) return v;
  if (Array.isArray(v) && v.length >= 2 && v.every(isNonce)) return v;
  throw new ClaimError(
    `claim eat_nonce (${CLAIM.nonce}) must be ${MIN_EAT_NONCE_BYTES}..${MAX_EAT_NONCE_BYTES} bytes, or an array of two or more such`,
  );
}

function decodeMeasurement(entry: unknown, i: number): Measurement {
  const bad = (why: string) => new ClaimError(`measurements[${i}]: ${why}`);
  if (!Array.isArray(entry) || entry.length !== 2) throw bad('must be [content-format, bytes]');
  const [cf, content] = entry as unknown[];
  if (cf !== CF_APPLICATION_CBOR || !(content instanceof Uint8Array))
    throw bad('must be content-format 60 with bytes');
  const scan = scanCbor(content, { maxBytes: 1024, maxDepth: 3, maxItems: 16 });
  if (!scan.ok) throw bad(`malformed: ${scan.reason}`);
  const m: unknown = decoder.decode(content);
  const name = m instanceof Map ? m.get('name') : undefined;
  const digest = m instanceof Map ? m.get('digest') : undefined;
  if (typeof name !== 'string' || !Array.isArray(digest) || digest[0] !== COSE_SHA256) {
    throw bad('must be {"name": text, "digest": [-16, bytes]}');
  }
  if (!(digest[1] instanceof Uint8Array) || digest[1].length !== 32)
    throw bad('SHA-256 digest must be 32 bytes');
  return { name, digest: new Uint8Array(digest[1]) };
}

function decodeQuote(v: unknown): TpmQuote {
  const bad = new ClaimError('claim -70002 (TPM quote) is malformed');
  if (!(v instanceof Map)) throw bad;
  const [ak, signature, pcr, value, attest] = ['ak', 'sig', 'pcr', 'value', 'attest'].map((k) => v.get(k));
  if (!isBytes(ak) || !isBytes(signature) || !isBytes(value) || !isBytes(attest) || !isUint(pcr)) throw bad;
  return { ak, signature, pcr, value, attest };
}

class ClaimError extends Error {}

function isText(v: unknown): v is string {
  return typeof v === 'string';
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function isArray(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
