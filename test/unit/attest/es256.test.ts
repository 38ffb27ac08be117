/**
 * ES256 through node:crypto against @noble/curves: noble's signatures verify (low and high S), DER as
 * a TPM writes it converts to `r || s` for any r and s (short integers, leading zero bytes), and what is
 * no key, no signature or no DER is refused with a reason instead of a crash.
 */
import { p256 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ecdsaDerToRaw, es256Verify } from '../../../agent/attest/es256.js';

const N = p256.Point.CURVE().n;

function keyPair() {
  const secretKey = p256.utils.randomSecretKey();
  return { secretKey, publicKey: p256.getPublicKey(secretKey, false) };
}

describe('ES256 through node:crypto', () => {
  it('verifies what noble signs, with low and with high S, and nothing else', () => {
    const { secretKey, publicKey } = keyPair();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (message) => {
        const sig = p256.Signature.fromBytes(p256.sign(message, secretKey, { prehash: true }));
        const high = new p256.Signature(sig.r, N - sig.s).toBytes();
        expect(es256Verify(sig.toBytes(), message, publicKey)).toBe(true);
        expect(es256Verify(high, message, publicKey)).toBe(true);
        expect(es256Verify(sig.toBytes(), new Uint8Array([...message, 0]), publicKey)).toBe(false);
        expect(es256Verify(sig.toBytes(), message, keyPair().publicKey)).toBe(false);
      }),
      { numRuns: 20 },
    );
  });

  it('answers false for a point off the curve, a compressed key and wrong lengths', () => {
    const { secretKey, publicKey } = keyPair();
    const message = new Uint8Array([1, 2, 3]);
    const sig = p256.sign(message, secretKey, { prehash: true });
    const offCurve = publicKey.slice();
    offCurve[64]! ^= 1;
    expect(es256Verify(sig, message, offCurve)).toBe(false);
    expect(es256Verify(sig, message, p256.getPublicKey(secretKey, true))).toBe(false);
    expect(es256Verify(sig.subarray(1), message, publicKey)).toBe(false);
    expect(es256Verify(new Uint8Array(64), message, publicKey)).toBe(false);
  });

  it('turns DER into r || s for any r and s noble encodes', () => {
    const scalar = fc.bigInt({ min: 1n, max: N - 1n });
    // Small values too: their DER integers are short and the raw form pads them.
    const small = fc.bigInt({ min: 1n, max: 2n ** 70n });
    fc.assert(
      fc.property(fc.oneof(scalar, small), fc.oneof(scalar, small), (r, s) => {
        const sig = new p256.Signature(r, s);
        expect(ecdsaDerToRaw(sig.toBytes('der'))).toEqual(sig.toBytes('compact'));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['empty', '', /not one SEQUENCE/],
    ['a SEQUENCE of the wrong length', '3006020101020101ff', /not one SEQUENCE/],
    ['one INTEGER', '3003020101', /not two INTEGERs/],
    ['an OCTET STRING for s', '3006020101040101', /not two INTEGERs/],
    ['a 33-byte r without a leading zero', `3026022101${'11'.repeat(32)}020101`, /longer than 32 bytes/],
    ['bytes after s', '30080201010201010000', /bytes after the INTEGERs/],
  ])('refuses %s', (_name, hex, reason) => {
    expect(() => ecdsaDerToRaw(Buffer.from(hex, 'hex'))).toThrow(reason);
  });
});
