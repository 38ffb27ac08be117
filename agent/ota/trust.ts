/**
 * The trust root: the fleet's Ed25519 public keys and how many of them must sign an update (TUF's root
 * role, reduced to one role). On the wire it is a COSE_Sign (or COSE_Sign1 for one signer) over the
 * text-keyed CBOR map `{type: "root", v: 1, version, threshold, keys: [32-byte bstr], expires?}`.
 * The root a device ships with is self-signed: a threshold of its own keys must have signed it. A new
 * root replaces it only if it is signed by a threshold of the OLD keys and a threshold of its NEW keys,
 * with a strictly greater version (TUF spec §5.3.4–5.3.5), so keys rotate without reflashing and a
 * thief of a minority of keys can neither rotate nor roll back. An expired root still authorises its
 * successor (TUF checks expiry only of the final root); manifests are refused under an expired root.
 */
import { readFile, stat } from 'node:fs/promises';
import {
  type CoseSigned,
  decodeCose,
  equalBytes,
  MAX_COSE_BYTES,
  type PrivateKeyLike,
  signCose,
  verifySignatures,
} from '../core/cose.js';
import { assertKeyBytes } from '../core/ed25519-keys.js';
import { errorMessage } from '../core/errors.js';
import { keyTable } from '../core/key-table.js';
import { TrustError } from './errors.js';
import { checkBytes, decodePayloadMap, encodePayloadMap, type PayloadValue } from './payload-map.js';

export interface TrustRoot {
  readonly v: 1;
  /** Increases with every rotation; a root with a version not above the current one is refused. */
  readonly version: number;
  /** How many distinct keys of `keys` must sign (1..keys.length). */
  readonly threshold: number;
  /** Raw 32-byte Ed25519 public keys, distinct. */
  readonly keys: readonly Uint8Array[];
  /** POSIX seconds after which manifests are no longer accepted under this root. */
  readonly expires?: number;
}

/**
 * Every key of a trust root payload: `type` ("root") and the fields of `TrustRoot`. Encoding writes
 * these, decoding reads only these and refuses any other (listed in docs/wire-formats.md).
 */
export const TRUST_ROOT_KEYS = keyTable<TrustRoot & { readonly type: 'root' }>()([
  'type',
  'v',
  'version',
  'threshold',
  'keys',
  'expires',
]);

export type TrustRootKey = (typeof TRUST_ROOT_KEYS)[number];

export const MAX_TRUST_KEYS = 32;

export type TrustVerifyCode =
  | 'bad-cose'
  | 'bad-payload'
  | 'bad-signature'
  | 'unknown-key'
  | 'below-threshold'
  | 'not-newer'
  | 'expired';

export type TrustVerifyResult =
  | { ok: true; root: TrustRoot }
  | { ok: false; code: TrustVerifyCode; reason: string };

/** A version-1 root over `publicKeys`. Misuse (bad key, threshold out of range, duplicates) throws. */
export function trustFromKeys(
  publicKeys: Uint8Array[],
  threshold: number,
  options: { version?: number; expires?: number } = {},
): TrustRoot {
  const root: TrustRoot = {
    v: 1,
    version: options.version ?? 1,
    threshold,
    keys: publicKeys.map((k) => new Uint8Array(k)),
    ...(options.expires !== undefined ? { expires: options.expires } : {}),
  };
  assertTrustRoot(root);
  return root;
}

function assertTrustRoot(root: TrustRoot): void {
  if (!Array.isArray(root.keys) || root.keys.length === 0 || root.keys.length > MAX_TRUST_KEYS) {
    throw new TypeError(`publicKeys must hold 1..${MAX_TRUST_KEYS} keys`);
  }
  root.keys.forEach((k, i) => {
    assertKeyBytes(k, `publicKeys[${i}]`);
  });
  const problem = rootProblem(root);
  if (problem !== undefined) throw new TypeError(problem);
}

/** What is wrong with a structurally typed root, if anything (shared by misuse checks and decoding). */
function rootProblem(root: TrustRoot): string | undefined {
  if (!Number.isSafeInteger(root.version) || root.version < 1) return 'version must be an integer >= 1';
  if (!Number.isInteger(root.threshold) || root.threshold < 1 || root.threshold > root.keys.length) {
    return `threshold must be an integer in 1..${root.keys.length}, got ${root.threshold}`;
  }
  for (let i = 0; i < root.keys.length; i++) {
    for (let j = 0; j < i; j++) {
      if (equalBytes(root.keys[i]!, root.keys[j]!)) return `keys[${i}] duplicates keys[${j}]`;
    }
  }
  if (root.expires !== undefined && (!Number.isSafeInteger(root.expires) || root.expires < 0)) {
    return 'expires must be POSIX seconds';
  }
  return undefined;
}

export function encodeTrustRoot(root: TrustRoot): Uint8Array {
  assertTrustRoot(root);
  const fields: Record<TrustRootKey, PayloadValue | undefined> = {
    type: 'root',
    v: 1,
    version: root.version,
    threshold: root.threshold,
    keys: [...root.keys],
    expires: root.expires,
  };
  return encodePayloadMap(fields);
}

/** Signs a root. A first root is signed by its own keys; a rotation by old and new keys together. */
export function signTrustRoot(root: TrustRoot, keys: PrivateKeyLike[]): Uint8Array {
  return signCose(encodeTrustRoot(root), keys);
}

export function decodeTrustRoot(
  payload: Uint8Array,
): { ok: true; root: TrustRoot } | { ok: false; reason: string } {
  const limits = { maxBytes: 16 * 1024, maxItems: 256 };
  const decoded = decodePayloadMap<TrustRoot, TrustRootKey>(payload, limits, (f) => {
    f.oneOf('type', ['root']);
    f.oneOf('v', [1]);
    const expires = f.optUint('expires');
    const root: TrustRoot = {
      v: 1,
      version: f.uint('version', { min: 1 }),
      threshold: f.uint('threshold', { min: 1 }),
      keys: f.array('keys', 1, MAX_TRUST_KEYS, (k, i) => checkBytes(`keys[${i}]`, k, 32)),
      ...(expires !== undefined ? { expires } : {}),
    };
    return root;
  });
  if (!decoded.ok) return decoded;
  const problem = rootProblem(decoded.value);
  return problem === undefined ? { ok: true, root: decoded.value } : { ok: false, reason: problem };
}

/** Verifies a self-signed root (the one installed with the image): a threshold of its own keys. */
export function verifyTrustRoot(bytes: Uint8Array): TrustVerifyResult {
  const parsed = parseSignedRoot(bytes);
  if (!parsed.ok) return parsed;
  const { signed, root } = parsed;
  const self = verifySignatures(signed, root.keys, root.threshold);
  if (!self.ok)
    return { ok: false, code: self.code, reason: `root is not signed by its own keys: ${self.reason}` };
  return { ok: true, root };
}

export type RotationCode = TrustVerifyCode | 'below-old-threshold' | 'below-new-threshold';
export type RotationResult =
  | { ok: true; root: TrustRoot }
  | { ok: false; code: RotationCode; reason: string };

/**
 * Accepts `newRootBytes` as the successor of `current` when a threshold of the current keys AND a
 * threshold of the new keys signed it and its version is strictly greater. With `nowMs`, a new root
 * that has already expired is refused as well.
 */
export function verifyRootRotation(
  current: TrustRoot,
  newRootBytes: Uint8Array,
  options: { nowMs?: number } = {},
): RotationResult {
  assertTrustRoot(current);
  const parsed = parseSignedRoot(newRootBytes);
  if (!parsed.ok) return parsed;
  const { signed, root } = parsed;
  if (root.version <= current.version) {
    return {
      ok: false,
      code: 'not-newer',
      reason: `root version ${root.version} is not above the current ${current.version}`,
    };
  }
  const byOld = verifySignatures(signed, current.keys, current.threshold);
  if (!byOld.ok) {
    return {
      ok: false,
      code: 'below-old-threshold',
      reason: `not signed by the current root: ${byOld.reason}`,
    };
  }
  const byNew = verifySignatures(signed, root.keys, root.threshold);
  if (!byNew.ok) {
    return { ok: false, code: 'below-new-threshold', reason: `not signed by its own keys: ${byNew.reason}` };
  }
  if (options.nowMs !== undefined && isTrustExpired(root, options.nowMs)) {
    return { ok: false, code: 'expired', reason: `new root expired at ${isoSeconds(root.expires!)}` };
  }
  return { ok: true, root };
}

export function isTrustExpired(root: TrustRoot, nowMs: number): boolean {
  return root.expires !== undefined && root.expires * 1000 <= nowMs;
}

function parseSignedRoot(
  bytes: Uint8Array,
): { ok: true; signed: CoseSigned; root: TrustRoot } | { ok: false; code: TrustVerifyCode; reason: string } {
  const cose = decodeCose(bytes);
  if (!cose.ok) return { ok: false, code: 'bad-cose', reason: cose.reason };
  const root = decodeTrustRoot(cose.value.payload);
  if (!root.ok) return { ok: false, code: 'bad-payload', reason: `trust root: ${root.reason}` };
  return { ok: true, signed: cose.value, root: root.root };
}

/** Reads and self-verifies a trust root file; throws TrustError with the reason. */
export async function loadTrust(file: string): Promise<TrustRoot> {
  let bytes: Uint8Array;
  try {
    // Check the size first: a root is a few hundred bytes, and a huge file must not be read whole.
    const { size } = await stat(file);
    if (size > MAX_COSE_BYTES) {
      throw new TrustError('ETRUST_INVALID', file, `${file}: trust root is too large (${size} bytes)`);
    }
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    if (e instanceof TrustError) throw e;
    throw new TrustError('ETRUST_READ', file, `${file}: cannot read trust root: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const verified = verifyTrustRoot(bytes);
  if (!verified.ok) throw new TrustError('ETRUST_INVALID', file, `${file}: ${verified.reason}`);
  return verified.root;
}

export function isoSeconds(posixSeconds: number): string {
  const d = new Date(posixSeconds * 1000);
  return Number.isNaN(d.getTime()) ? String(posixSeconds) : d.toISOString();
}
