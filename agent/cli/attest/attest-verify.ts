/**
 * `edge-agent attest verify EVIDENCE --pubkey DEV.pem --nonce HEX [--expect REFERENCE.yaml]`: checks
 * attestation evidence the fleet received (the COSE bytes, or the base64 text the console shows) as
 * verify-evidence.ts describes. Prints the claims as JSON either way; on failure it also says on stderr
 * which check or claim failed and exits 1. Unreadable inputs are usage errors (exit 2), a key file that
 * is not an Ed25519 or P-256 public key exit 78.
 */
import { readFile } from 'node:fs/promises';
import { parseDevicePublicKey } from '../../attest/device-key.js';
import { MAX_NONCE_BYTES, MIN_NONCE_BYTES } from '../../attest/evidence.js';
import {
  claimsToJson,
  parseReference,
  type Reference,
  verifyEvidence,
} from '../../attest/verify-evidence.js';
import { errorMessage } from '../../core/errors.js';
import { CliError, type CliIo, EXIT_BAD_KEY, EXIT_FAILED, usageError } from '../shared/cli-io.js';

export interface AttestVerifyOptions {
  readonly pubkey: string;
  readonly nonce: string;
  readonly expect?: string;
}

export async function attestVerifyCommand(file: string, opts: AttestVerifyOptions, io: CliIo): Promise<void> {
  const publicKey = await readDevicePublicKey(opts.pubkey);
  const nonce = parseNonce(opts.nonce);
  const reference = opts.expect ? await readReference(opts.expect) : undefined;
  const evidence = await readSignedFile(file);
  const verdict = verifyEvidence(evidence, { publicKey, nonce, ...(reference ? { reference } : {}) });
  if (verdict.ok) {
    io.out(
      `${JSON.stringify({ ok: true, tpmQuote: verdict.tpmQuote, ...claimsToJson(verdict.claims, verdict.alg, publicKey) })}\n`,
    );
    return;
  }
  io.out(
    `${JSON.stringify({
      ok: false,
      code: verdict.code,
      reason: verdict.reason,
      ...(verdict.differences ? { differences: verdict.differences } : {}),
      ...(verdict.claims ? { claims: claimsToJson(verdict.claims) } : {}),
    })}\n`,
  );
  throw new CliError(EXIT_FAILED, `${file}: rejected (${verdict.code}): ${verdict.reason}`);
}

export async function readDevicePublicKey(file: string): Promise<Uint8Array> {
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (e) {
    throw new CliError(EXIT_BAD_KEY, `${file}: cannot read key file: ${errorMessage(e)}`);
  }
  const parsed = parseDevicePublicKey(new Uint8Array(text));
  if (!parsed.ok) throw new CliError(EXIT_BAD_KEY, `${file}: ${parsed.reason}`);
  return parsed.publicKey;
}

function parseNonce(text: string): Uint8Array {
  const hex = text.replace(/^0x/i, '');
  if (!new RegExp(`^([0-9a-fA-F]{2}){${MIN_NONCE_BYTES},${MAX_NONCE_BYTES}}$`).test(hex)) {
    throw usageError(`--nonce must be ${MIN_NONCE_BYTES}..${MAX_NONCE_BYTES} bytes as hex, got "${text}"`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

async function readReference(file: string): Promise<Reference> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw usageError(`${file}: cannot read reference values: ${errorMessage(e)}`);
  }
  const parsed = parseReference(text);
  if (!parsed.ok) throw usageError(`${file}: ${parsed.reason}`);
  return parsed.reference;
}

/** A signed object as bytes, or as the base64 text the console prints. */
export async function readSignedFile(file: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw usageError(`${file}: cannot read: ${errorMessage(e)}`);
  }
  const text = bytes.toString('latin1').trim();
  // A tagged COSE object starts with 0xd2 (tag 18) or 0xd8 0x62 (tag 98); base64 text never does.
  if (bytes[0] !== 0xd2 && bytes[0] !== 0xd8 && /^[A-Za-z0-9+/=_-]+$/.test(text)) {
    return new Uint8Array(
      Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64'),
    );
  }
  return new Uint8Array(bytes);
}
