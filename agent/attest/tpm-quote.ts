/**
 * A TPM 2.0 quote as evidence carries it, and its verification without a TPM (what `tpm2_checkquote`
 * does, in TypeScript, so the fleet side needs no tpm2-tools). The quote is the `TPMS_ATTEST` structure
 * the TPM signed (TPM 2.0 Library Part 2 §10.12.12: magic `TPM_GENERATED_VALUE` 0xff544347, type
 * `TPM_ST_ATTEST_QUOTE` 0x8018, qualifiedSigner, extraData = our nonce, clockInfo, firmwareVersion,
 * `TPMS_QUOTE_INFO` = PCR selection + digest of the selected PCR values), an ECDSA P-256 signature over
 * SHA-256 of it by the attestation key, and the value of the one SHA-256 PCR the agent extends.
 * The PCR value must equal the extend chain over the measurements claim, in order, from zero:
 * `pcr = SHA-256(pcr || digest)` (Part 1 §17.2, TPM2_PCR_Extend).
 */
import { createHash } from 'node:crypto';
import { equalBytes } from '../core/cose.js';
import { verifyDeviceSignature } from './device-key.js';

export const TPM_GENERATED_VALUE = 0xff544347;
export const TPM_ST_ATTEST_QUOTE = 0x8018;
export const TPM_ALG_SHA256 = 0x000b;

export interface TpmQuote {
  /** The attestation key's public point (65-byte uncompressed P-256). */
  readonly ak: Uint8Array;
  /** `TPMS_ATTEST` exactly as signed. */
  readonly attest: Uint8Array;
  /** ECDSA `r || s` over SHA-256(attest). */
  readonly signature: Uint8Array;
  /** The SHA-256 PCR the agent extends its measurements into. */
  readonly pcr: number;
  /** Its value when quoted. */
  readonly value: Uint8Array;
}

export interface QuoteInfo {
  readonly extraData: Uint8Array;
  readonly clockMs: number;
  readonly selections: readonly { readonly hashAlg: number; readonly pcrs: readonly number[] }[];
  readonly pcrDigest: Uint8Array;
}

export type QuoteCheck = { ok: true; info: QuoteInfo } | { ok: false; reason: string };

/** Parses a `TPMS_ATTEST` of type quote; anything else (or trailing bytes) is `{ ok: false }`. */
export function parseQuoteAttest(bytes: Uint8Array): QuoteCheck {
  const r = new Reader(bytes);
  try {
    if (r.u32() !== TPM_GENERATED_VALUE) return { ok: false, reason: 'not TPM-generated (magic)' };
    if (r.u16() !== TPM_ST_ATTEST_QUOTE) return { ok: false, reason: 'not a quote (TPMS_ATTEST type)' };
    r.sized(); // qualifiedSigner
    const extraData = r.sized();
    const clockMs = r.u64();
    r.skip(4 + 4 + 1 + 8); // resetCount, restartCount, safe, firmwareVersion (obfuscated outside the EH)
    const count = r.u32();
    if (count > 8) return { ok: false, reason: `implausible PCR selection count ${count}` };
    const selections: { hashAlg: number; pcrs: number[] }[] = [];
    for (let i = 0; i < count; i++) {
      const hashAlg = r.u16();
      const size = r.u8();
      const bits = r.bytes(size);
      const pcrs: number[] = [];
      bits.forEach((byte, j) => {
        for (let b = 0; b < 8; b++) if (byte & (1 << b)) pcrs.push(j * 8 + b);
      });
      selections.push({ hashAlg, pcrs });
    }
    const pcrDigest = r.sized();
    if (!r.done()) return { ok: false, reason: 'trailing bytes after TPMS_ATTEST' };
    return { ok: true, info: { extraData, clockMs, selections, pcrDigest } };
  } catch {
    return { ok: false, reason: 'truncated TPMS_ATTEST' };
  }
}

/**
 * Checks a quote: signed by `quote.ak`, over `nonce`, selecting exactly the SHA-256 bank's `quote.pcr`,
 * whose digest matches `quote.value`, and that value equals the extend chain over `digests`.
 */
export function verifyQuote(quote: TpmQuote, nonce: Uint8Array, digests: readonly Uint8Array[]): QuoteCheck {
  if (quote.ak.length !== 65 || quote.ak[0] !== 0x04) return { ok: false, reason: 'AK is not a P-256 point' };
  if (!verifyDeviceSignature(quote.ak, quote.attest, quote.signature)) {
    return { ok: false, reason: 'quote signature does not verify with the attestation key' };
  }
  const parsed = parseQuoteAttest(quote.attest);
  if (!parsed.ok) return parsed;
  const { info } = parsed;
  if (!equalBytes(info.extraData, nonce)) return { ok: false, reason: 'quote is not over this nonce' };
  const sel = info.selections;
  if (sel.length !== 1 || sel[0]!.hashAlg !== TPM_ALG_SHA256 || sel[0]!.pcrs.join() !== String(quote.pcr)) {
    return { ok: false, reason: `quote does not select exactly sha256:${quote.pcr}` };
  }
  if (!equalBytes(info.pcrDigest, sha256(quote.value))) {
    return { ok: false, reason: `PCR ${quote.pcr} value given does not match the quoted PCR digest` };
  }
  if (!equalBytes(quote.value, extendChain(digests))) {
    return { ok: false, reason: `PCR ${quote.pcr} does not equal the extend chain over the measurements` };
  }
  return { ok: true, info };
}

/** The SHA-256 PCR value after extending `digests` in order into a reset (all-zero) PCR. */
export function extendChain(digests: readonly Uint8Array[]): Uint8Array {
  let pcr: Uint8Array = new Uint8Array(32);
  for (const d of digests) pcr = sha256(Buffer.concat([pcr, d]));
  return pcr;
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

class Reader {
  readonly #b: Uint8Array;
  readonly #v: DataView;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    this.#b = bytes;
    this.#v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(n: number): number {
    if (this.#pos + n > this.#b.length) throw new RangeError('truncated');
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(): number {
    return this.#v.getUint8(this.#need(1));
  }

  u16(): number {
    return this.#v.getUint16(this.#need(2));
  }

  u32(): number {
    return this.#v.getUint32(this.#need(4));
  }

  u64(): number {
    const at = this.#need(8);
    return this.#v.getUint32(at) * 2 ** 32 + this.#v.getUint32(at + 4);
  }

  bytes(n: number): Uint8Array {
    const at = this.#need(n);
    return this.#b.slice(at, at + n);
  }

  skip(n: number): void {
    this.#need(n);
  }

  /** A TPM2B: 16-bit size, then that many bytes. */
  sized(): Uint8Array {
    return this.bytes(this.u16());
  }

  done(): boolean {
    return this.#pos === this.#b.length;
  }
}
