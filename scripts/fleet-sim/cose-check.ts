/**
 * The backend's own check of a device COSE_Sign1 (RFC 9052 §4.2), written from docs/wire-formats.md
 * alone — a generic CBOR decoder (cbor-x) and node:crypto, none of the agent's COSE code — so a
 * mistake in the agent's signing cannot hide behind the same mistake in the check. Ed25519 (EdDSA,
 * -8) and P-256 (ES256, -7, signature r || s) as the device identities sign.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { decode, Tag } from 'cbor-x';

export type CoseCheck =
  | { readonly ok: true; readonly payload: Uint8Array; readonly contentFormat: number | undefined }
  | { readonly ok: false; readonly reason: string };

export function devicePublicKey(pem: string): KeyObject {
  return createPublicKey(pem);
}

/** Verifies `bytes` as a tagged COSE_Sign1 by `key`; returns its payload. */
export function checkSign1(bytes: Uint8Array, key: KeyObject): CoseCheck {
  let item: unknown;
  try {
    item = decode(bytes);
  } catch (e) {
    return { ok: false, reason: `not CBOR: ${String(e)}` };
  }
  if (!(item instanceof Tag) || item.tag !== 18 || !Array.isArray(item.value) || item.value.length !== 4)
    return { ok: false, reason: 'not a tagged COSE_Sign1' };
  const [prot, , payload, signature] = item.value as unknown[];
  if (!(prot instanceof Uint8Array) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array))
    return { ok: false, reason: 'COSE_Sign1 fields are not byte strings' };
  let header: unknown;
  try {
    header = decode(prot);
  } catch {
    return { ok: false, reason: 'protected header is not CBOR' };
  }
  const h = header as Record<string, unknown>;
  const alg = h[1] ?? h['1'];
  const message = sigStructure1(prot, payload);
  const good =
    alg === -8
      ? verify(null, message, key, signature)
      : alg === -7
        ? verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature)
        : false;
  if (!good) return { ok: false, reason: alg === -8 || alg === -7 ? 'bad signature' : `alg ${String(alg)}` };
  const cf = h[3] ?? h['3'];
  return { ok: true, payload, contentFormat: typeof cf === 'number' ? cf : undefined };
}

/** `["Signature1", protected, h'', payload]`, encoded by hand (definite lengths, shortest heads). */
function sigStructure1(prot: Uint8Array, payload: Uint8Array): Buffer {
  const context = Buffer.from('Signature1', 'utf8');
  return Buffer.concat([
    Buffer.from([0x84]),
    head(3, context.length),
    context,
    head(2, prot.length),
    prot,
    head(2, 0),
    head(2, payload.length),
    payload,
  ]);
}

function head(major: number, length: number): Buffer {
  const m = major << 5;
  if (length < 24) return Buffer.from([m | length]);
  if (length < 0x100) return Buffer.from([m | 24, length]);
  if (length < 0x10000) return Buffer.from([m | 25, length >> 8, length & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = m | 26;
  b.writeUInt32BE(length, 1);
  return b;
}
