/**
 * The update manifest (docs/wire-formats.md "Update manifest"): a text-keyed CBOR map signed as
 * COSE_Sign1 or COSE_Sign. `verifySignedManifest` then `checkManifest` (check-offer.ts runs both) make every
 * check the device makes before a byte reaches a slot, in this order, stopping at the first failure with its
 * code: COSE structure → signatures against the trust
 * root's threshold → payload schema → trust root expiry → component → hw → seq (anti-rollback) →
 * expiry → size within the slot → size within free space. The payload is parsed only after the
 * signatures verify. Schema: every field type is checked and unknown keys are REJECTED (a constraint a
 * newer signer added must not be silently ignored; new fields come with a new `v`). Time is the later
 * of the wall clock and the last trusted time (`trustedNowMs`), since a Pi boots with a wrong clock.
 * Hostile bytes never throw; misuse (a malformed Manifest handed to `encodeManifest`) throws TypeError.
 */
import { decodeCose, type PrivateKeyLike, signCose, verifySignatures } from '../core/cose.js';
import { keyTable } from '../core/key-table.js';
import {
  checkBytes,
  decodePayloadMap,
  encodePayloadMap,
  PayloadError,
  type PayloadValue,
} from './payload-map.js';
import { isoSeconds, isTrustExpired, type TrustRoot } from './trust.js';

export type { PrivateKeyLike } from '../core/cose.js';

/**
 * Every key a manifest payload may hold, in the order `Manifest` declares them: encoding writes
 * exactly these, decoding reads only these and refuses any other (docs/wire-formats.md lists them; a
 * test checks the two agree).
 */
export const MANIFEST_KEYS = keyTable<Manifest>()([
  'v',
  'component',
  'version',
  'seq',
  'hw',
  'size',
  'sha256',
  'format',
  'url',
  'expires',
  'created',
  'chunk',
  'chunks',
]);

export type ManifestKey = (typeof MANIFEST_KEYS)[number];

export interface Manifest {
  v: 1;
  /** The slot class this image is for: `rootfs`, `agent`, … */
  component: string;
  version: string;
  /** Strictly increasing per component (anti-rollback). */
  seq: number;
  /** Board ids this image runs on. */
  hw: string[];
  /** Exact payload length in bytes. */
  size: number;
  /** SHA-256 of the whole payload. */
  sha256: Uint8Array;
  format: 'raw' | 'tar';
  url?: string;
  /** POSIX seconds after which the manifest is refused. */
  expires?: number;
  /** POSIX seconds when it was made. */
  created?: number;
  /** Chunk length in bytes for `chunks`; the last chunk may be shorter. */
  chunk?: number;
  /** SHA-256 of each `chunk`-byte piece, ceil(size / chunk) of them. */
  chunks?: Uint8Array[];
}

export interface VerifyContext {
  readonly trust: TrustRoot;
  /** This board's id, which `hw` must contain. */
  readonly board: string;
  /** The slot class being updated, which `component` must equal. */
  readonly component: string;
  /** The seq last committed for this component; the manifest's must be greater (0 when none). */
  readonly committedSeq: number;
  /** `trustedNowMs(wall clock, last trusted time)`. */
  readonly nowMs: number;
  readonly slotSizeBytes?: number;
  readonly freeBytes?: number;
}

export type VerifyCode =
  | 'bad-cose'
  | 'bad-signature'
  | 'unknown-key'
  | 'below-threshold'
  | 'bad-payload'
  | 'wrong-hw'
  | 'wrong-component'
  | 'replayed-seq'
  | 'expired'
  | 'too-large'
  | 'no-space';

export type VerifyResult =
  | { ok: true; manifest: Manifest; kids: Uint8Array[] }
  | { ok: false; reason: string; code: VerifyCode };

/** Limits that bound parsing cost whatever a signer wrote. */
export const MANIFEST_LIMITS = {
  maxBytes: 1 << 20,
  maxChunks: 30_000,
  maxHw: 64,
  maxTextLength: 256,
  maxUrlLength: 2048,
} as const;

const COMPONENT = /^[a-z0-9][a-z0-9._-]*$/;

/** A component name as manifests and the configuration spell it (it becomes part of file names). */
export function isComponentName(name: string): boolean {
  return name.length <= 64 && COMPONENT.test(name);
}
const BOARD = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
/** Printable text without control characters (versions end up in logs and reports). */
const PRINTABLE = /^[^\p{Cc}]+$/u;
const URL_TEXT = /^https?:\/\/[^\s]+$/i;

/** The time to judge expiry by: the later of the wall clock and the last time we had reason to trust. */
export function trustedNowMs(wallMs: number, lastTrustedMs: number): number {
  return Math.max(wallMs, lastTrustedMs);
}

/**
 * The last trusted time to persist once a manifest is committed: it was signed no earlier than its
 * `created`, so time cannot be earlier than that either, whatever the wall clock says after a reboot.
 */
export function trustTimeAfterCommitMs(m: Manifest, lastTrustedMs: number): number {
  return m.created === undefined ? lastTrustedMs : Math.max(lastTrustedMs, m.created * 1000);
}

export function encodeManifest(m: Manifest): Uint8Array {
  const problem = manifestProblem(m);
  if (problem !== undefined) throw new TypeError(`manifest: ${problem}`);
  const fields = Object.fromEntries(MANIFEST_KEYS.map((key) => [key, m[key]]));
  return encodePayloadMap(fields as Record<ManifestKey, PayloadValue | undefined>);
}

/** Signs a manifest: one key gives a COSE_Sign1, several a COSE_Sign. */
export function signManifest(m: Manifest, keys: PrivateKeyLike[]): Uint8Array {
  return signCose(encodeManifest(m), keys);
}

/** Parses a manifest payload (the COSE payload, not the COSE object). */
export function decodeManifest(
  payload: Uint8Array,
): { ok: true; manifest: Manifest } | { ok: false; reason: string } {
  const L = MANIFEST_LIMITS;
  const decoded = decodePayloadMap<Manifest, ManifestKey>(
    payload,
    { maxBytes: L.maxBytes, maxItems: L.maxChunks + L.maxHw + 64 },
    (f) => {
      f.oneOf('v', [1]);
      const m: Manifest = {
        v: 1,
        component: f.text('component', COMPONENT, 64),
        version: f.text('version', PRINTABLE, L.maxTextLength),
        seq: f.uint('seq'),
        hw: f.array('hw', 1, L.maxHw, (h, i) => boardText(`hw[${i}]`, h)),
        size: f.uint('size', { min: 1 }),
        sha256: f.bytes('sha256', 32),
        format: f.oneOf('format', ['raw', 'tar'] as const),
      };
      const url = f.optText('url', URL_TEXT, L.maxUrlLength);
      const expires = f.optUint('expires');
      const created = f.optUint('created');
      const chunk = f.optUint('chunk', { min: 1 });
      const chunks = f.optArray('chunks', 1, L.maxChunks, (c, i) => checkBytes(`chunks[${i}]`, c, 32));
      if (url !== undefined) m.url = url;
      if (expires !== undefined) m.expires = expires;
      if (created !== undefined) m.created = created;
      if (chunk !== undefined) m.chunk = chunk;
      if (chunks !== undefined) m.chunks = chunks;
      return m;
    },
  );
  if (!decoded.ok) return decoded;
  const problem = manifestProblem(decoded.value);
  return problem === undefined ? { ok: true, manifest: decoded.value } : { ok: false, reason: problem };
}

function boardText(key: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 64 || !BOARD.test(v)) {
    throw new PayloadError(`field "${key}" must be a board id matching ${BOARD}`);
  }
  return v;
}

/** Cross-field and type rules shared by encoding (misuse) and decoding (hostile data). */
function manifestProblem(m: Manifest): string | undefined {
  if (m === null || typeof m !== 'object') return 'not an object';
  if (m.v !== 1) return 'v must be 1';
  if (typeof m.component !== 'string' || !COMPONENT.test(m.component) || m.component.length > 64) {
    return `component must match ${COMPONENT}`;
  }
  if (typeof m.version !== 'string' || !PRINTABLE.test(m.version) || m.version.length > 256) {
    return 'version must be printable text';
  }
  if (!Number.isSafeInteger(m.seq) || m.seq < 0) return 'seq must be a non-negative integer';
  if (!Array.isArray(m.hw) || m.hw.length === 0 || m.hw.length > MANIFEST_LIMITS.maxHw) {
    return `hw must list 1..${MANIFEST_LIMITS.maxHw} boards`;
  }
  if (m.hw.some((h) => typeof h !== 'string' || !BOARD.test(h) || h.length > 64)) {
    return `hw entries must match ${BOARD}`;
  }
  if (!Number.isSafeInteger(m.size) || m.size < 1) return 'size must be a positive integer';
  if (!(m.sha256 instanceof Uint8Array) || m.sha256.length !== 32) return 'sha256 must be 32 bytes';
  if (m.format !== 'raw' && m.format !== 'tar') return 'format must be "raw" or "tar"';
  if (m.url !== undefined && (typeof m.url !== 'string' || !URL_TEXT.test(m.url) || !URL.canParse(m.url))) {
    return 'url must be an http(s) URL';
  }
  for (const key of ['expires', 'created'] as const) {
    const t = m[key];
    if (t !== undefined && (!Number.isSafeInteger(t) || t < 0)) return `${key} must be POSIX seconds`;
  }
  if ((m.chunk === undefined) !== (m.chunks === undefined)) return 'chunk and chunks come together';
  if (m.chunk !== undefined && m.chunks !== undefined) {
    if (!Number.isSafeInteger(m.chunk) || m.chunk < 1) return 'chunk must be a positive integer';
    const expected = Math.ceil(m.size / m.chunk);
    if (!Array.isArray(m.chunks) || m.chunks.length !== expected) {
      return `chunks must hold ceil(size / chunk) = ${expected} hashes`;
    }
    if (m.chunks.some((c) => !(c instanceof Uint8Array) || c.length !== 32))
      return 'chunks must be 32-byte hashes';
  }
  return undefined;
}

/** Structure, signatures and schema only: what the release pipeline's `manifest verify` checks first. */
export function verifySignedManifest(bytes: Uint8Array, trust: TrustRoot): VerifyResult {
  const cose = decodeCose(bytes, { maxBytes: MANIFEST_LIMITS.maxBytes + 4096 });
  if (!cose.ok) return { ok: false, code: 'bad-cose', reason: cose.reason };
  const sigs = verifySignatures(cose.value, trust.keys, trust.threshold);
  if (!sigs.ok) return { ok: false, code: sigs.code, reason: sigs.reason };
  const decoded = decodeManifest(sigs.payload);
  if (!decoded.ok) return { ok: false, code: 'bad-payload', reason: `manifest: ${decoded.reason}` };
  return { ok: true, manifest: decoded.manifest, kids: sigs.kids };
}

/**
 * The device-specific checks on a manifest whose signatures verified. Any context field left out is not
 * checked (the release CLI knows no slot); returns the failure, or undefined when all pass.
 */
export function checkManifest(
  m: Manifest,
  ctx: Partial<Omit<VerifyContext, 'trust'>> & { readonly trust?: TrustRoot },
): Extract<VerifyResult, { ok: false }> | undefined {
  const no = (code: VerifyCode, reason: string) => ({ ok: false as const, code, reason });
  if (ctx.trust !== undefined && ctx.nowMs !== undefined && isTrustExpired(ctx.trust, ctx.nowMs)) {
    return no(
      'expired',
      `trust root version ${ctx.trust.version} expired at ${isoSeconds(ctx.trust.expires!)}`,
    );
  }
  if (ctx.component !== undefined && m.component !== ctx.component) {
    return no('wrong-component', `manifest is for component "${m.component}", not "${ctx.component}"`);
  }
  if (ctx.board !== undefined && !m.hw.includes(ctx.board)) {
    return no('wrong-hw', `manifest is for ${m.hw.join(', ')}, not board "${ctx.board}"`);
  }
  if (ctx.committedSeq !== undefined && !(m.seq > ctx.committedSeq)) {
    return no('replayed-seq', `seq ${m.seq} is not above the committed seq ${ctx.committedSeq}`);
  }
  if (ctx.nowMs !== undefined && m.expires !== undefined && m.expires * 1000 <= ctx.nowMs) {
    return no('expired', `manifest expired at ${isoSeconds(m.expires)}`);
  }
  if (ctx.slotSizeBytes !== undefined && m.size > ctx.slotSizeBytes) {
    return no('too-large', `payload of ${m.size} bytes exceeds the slot's ${ctx.slotSizeBytes} bytes`);
  }
  if (ctx.freeBytes !== undefined && m.size > ctx.freeBytes) {
    return no('no-space', `payload of ${m.size} bytes exceeds the ${ctx.freeBytes} bytes free`);
  }
  return undefined;
}
