/**
 * The fleet side of attestation: checks evidence against the device's public key and the nonce it was
 * asked for, then (optionally) against reference values, and says which claim differs. Order: COSE and
 * signature (`bad-cose`, `key-mismatch`, `bad-signature`; a CWT tag 61 around the COSE_Sign1 is
 * accepted, RFC 8392 §6) → claims schema (`bad-claims`) → nonce (`wrong-nonce`: the expected nonce is
 * the claim, or one of the claim's array, RFC 9711 §4.1) → ueid bound to the key → TPM quote, when present (`bad-quote`: signature by the AK,
 * same nonce, PCR equal to the extend chain over the measurements claim) → reference values
 * (`differs`, listing every difference). Reference values come from a YAML file:
 *
 *   deviceId: gw-0042            # sub
 *   swname: edge-agent
 *   swversion: 0.3.1
 *   measurements: { agent: <sha256 hex>, config: <hex>, board: <hex> }   # only those named are checked
 *   rolledBack: false
 *   tpm: true                    # a verified TPM quote is required
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { equalBytes } from '../core/cose.js';
import { unwrapCwtTag } from './cwt-tag.js';
import { verifyDeviceCose1 } from './device-cose.js';
import { algName, type DeviceAlg, deviceKidOf } from './device-key.js';
import { decodeClaims, type EvidenceClaims, UEID_RAND } from './eat.js';
import { verifyQuote } from './tpm-quote.js';

const hex64 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected a SHA-256 as 64 hex digits');
/** Reference files are read with YAML's failsafe schema (every scalar text), so booleans arrive as text. */
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

export const referenceSchema = z.strictObject({
  deviceId: z.string().min(1).optional(),
  swname: z.string().min(1).optional(),
  swversion: z.string().min(1).optional(),
  measurements: z.record(z.string().min(1), hex64).optional(),
  rolledBack: bool.optional(),
  tpm: bool.optional(),
});

export type Reference = z.infer<typeof referenceSchema>;

export interface Difference {
  /** `swversion`, `measurements.agent`, `rolledBack`, … */
  readonly claim: string;
  readonly expected: string;
  readonly actual: string;
}

export type EvidenceCode =
  | 'bad-cose'
  | 'key-mismatch'
  | 'bad-signature'
  | 'bad-claims'
  | 'wrong-nonce'
  | 'bad-quote'
  | 'differs';

export type EvidenceVerdict =
  | {
      readonly ok: true;
      readonly alg: DeviceAlg;
      readonly claims: EvidenceClaims;
      /** Whether a TPM quote was present and verified. */
      readonly tpmQuote: boolean;
    }
  | {
      readonly ok: false;
      readonly code: EvidenceCode;
      readonly reason: string;
      readonly claims?: EvidenceClaims;
      readonly differences?: readonly Difference[];
    };

export function verifyEvidence(
  bytes: Uint8Array,
  options: { readonly publicKey: Uint8Array; readonly nonce: Uint8Array; readonly reference?: Reference },
): EvidenceVerdict {
  const unwrapped = unwrapCwtTag(bytes);
  if (!unwrapped.ok) return { ok: false, code: 'bad-cose', reason: unwrapped.reason };
  const cose = verifyDeviceCose1(unwrapped.bytes, options.publicKey);
  if (!cose.ok) return { ok: false, code: cose.code, reason: cose.reason };
  const decoded = decodeClaims(cose.payload);
  if (!decoded.ok) return { ok: false, code: 'bad-claims', reason: decoded.reason };
  const { claims } = decoded;
  const nonces = claims.nonce instanceof Uint8Array ? [claims.nonce] : claims.nonce;
  if (!nonces.some((n) => equalBytes(n, options.nonce))) {
    return {
      ok: false,
      code: 'wrong-nonce',
      reason: `evidence is over nonce ${nonces.map(hex).join(', ')}, not ${hex(options.nonce)} (stale or replayed)`,
      claims,
    };
  }
  const ueid = Uint8Array.of(UEID_RAND, ...createHash('sha256').update(options.publicKey).digest());
  if (!equalBytes(claims.ueid, ueid)) {
    return { ok: false, code: 'key-mismatch', reason: 'ueid is not derived from the key given', claims };
  }
  if (claims.tpmQuote) {
    const q = verifyQuote(
      claims.tpmQuote,
      options.nonce,
      claims.measurements.map((m) => m.digest),
    );
    if (!q.ok) return { ok: false, code: 'bad-quote', reason: `TPM quote: ${q.reason}`, claims };
  }
  const differences = options.reference ? compare(claims, options.reference) : [];
  if (differences.length > 0) {
    const reason = differences
      .map((d) => `${d.claim} differs: expected ${d.expected}, got ${d.actual}`)
      .join('; ');
    return { ok: false, code: 'differs', reason, claims, differences };
  }
  return { ok: true, alg: cose.alg, claims, tpmQuote: claims.tpmQuote !== undefined };
}

function compare(claims: EvidenceClaims, ref: Reference): Difference[] {
  const out: Difference[] = [];
  const check = (claim: string, expected: string | undefined, actual: string) => {
    if (expected !== undefined && expected !== actual) out.push({ claim, expected, actual });
  };
  check('deviceId', ref.deviceId, claims.deviceId);
  check('swname', ref.swname, claims.swName);
  check('swversion', ref.swversion, claims.swVersion);
  for (const [name, digest] of Object.entries(ref.measurements ?? {})) {
    const m = claims.measurements.find((x) => x.name === name);
    check(`measurements.${name}`, digest.toLowerCase(), m ? hex(m.digest) : '(not measured)');
  }
  if (ref.rolledBack !== undefined) {
    check(
      'rolledBack',
      String(ref.rolledBack),
      claims.rolledBack === undefined ? '(not reported)' : String(claims.rolledBack),
    );
  }
  if (ref.tpm === true && !claims.tpmQuote)
    out.push({ claim: 'tpm', expected: 'a TPM quote', actual: '(none)' });
  return out;
}

/** Parses reference values (YAML text); a mistake is a reason naming the field. */
export function parseReference(
  text: string,
): { ok: true; reference: Reference } | { ok: false; reason: string } {
  let value: unknown;
  try {
    // Failsafe: a digest of all decimal digits (or a version like 1.10) must not turn into a number.
    value = parseYaml(text, { schema: 'failsafe' });
  } catch (e) {
    return { ok: false, reason: `not YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  const parsed = referenceSchema.safeParse(value ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).join('; '),
    };
  }
  return { ok: true, reference: parsed.data };
}

/** Evidence claims as JSON-friendly data (hex for bytes), for the CLI and logs. */
export function claimsToJson(
  claims: EvidenceClaims,
  alg?: DeviceAlg,
  publicKey?: Uint8Array,
): Record<string, unknown> {
  return {
    ...(alg !== undefined ? { alg: algName(alg) } : {}),
    ...(publicKey ? { kid: hex(deviceKidOf(publicKey)) } : {}),
    deviceId: claims.deviceId,
    iat: claims.iat,
    nonce: claims.nonce instanceof Uint8Array ? hex(claims.nonce) : claims.nonce.map(hex),
    ueid: hex(claims.ueid),
    profile: claims.profile,
    swname: claims.swName,
    swversion: claims.swVersion,
    measurements: Object.fromEntries(claims.measurements.map((m) => [m.name, hex(m.digest)])),
    uptimeS: claims.uptimeS,
    bootcount: claims.bootCount,
    bootseed: hex(claims.bootSeed),
    ...(claims.rolledBack !== undefined ? { rolledBack: claims.rolledBack } : {}),
    ...(claims.tpmQuote
      ? { tpm: { pcr: claims.tpmQuote.pcr, value: hex(claims.tpmQuote.value), ak: hex(claims.tpmQuote.ak) } }
      : {}),
  };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
