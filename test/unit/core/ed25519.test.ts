/**
 * Ed25519 through node:crypto against @noble/curves, an independent implementation: the same public
 * keys and signatures for any seed and message, each verifying the other's, and the same verdict on
 * hostile signatures (S at or above the group order, non-canonical and small-order points) — where
 * OpenSSL alone would accept a small-order key, core/ed25519.ts refuses it as noble's strict mode does.
 */
import { ed25519 as noble } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ed25519Generate,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
} from '../../../agent/core/ed25519.js';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

function le32(n: bigint): Uint8Array {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return b;
}

function fromLe(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

function nobleStrict(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return noble.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

const seeds = fc.uint8Array({ minLength: 32, maxLength: 32 });
const messages = fc.uint8Array({ maxLength: 300 });

describe('Ed25519 through node:crypto', () => {
  it('makes the same keys and signatures as @noble/curves, and each verifies the other', () => {
    fc.assert(
      fc.property(seeds, messages, (seed, message) => {
        const publicKey = ed25519PublicKey(seed);
        expect(publicKey).toEqual(noble.getPublicKey(seed));
        const signature = ed25519Sign(message, seed);
        expect(signature).toEqual(noble.sign(message, seed));
        expect(nobleStrict(signature, message, publicKey)).toBe(true);
        expect(ed25519Verify(signature, message, publicKey)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('generates a seed and the public key that belongs to it', () => {
    const { seed, publicKey } = ed25519Generate();
    expect(seed).toHaveLength(32);
    expect(publicKey).toEqual(noble.getPublicKey(seed));
    expect(ed25519Generate().seed).not.toEqual(seed);
  });

  it('refuses a changed message, a changed signature and another key', () => {
    const { seed, publicKey } = ed25519Generate();
    const message = new TextEncoder().encode('set heater.state false');
    const signature = ed25519Sign(message, seed);
    expect(ed25519Verify(signature, message.slice(1), publicKey)).toBe(false);
    const flipped = signature.slice();
    flipped[5]! ^= 1;
    expect(ed25519Verify(flipped, message, publicKey)).toBe(false);
    expect(ed25519Verify(signature, message, ed25519Generate().publicKey)).toBe(false);
  });

  describe('hostile signatures get the verdict of noble strict (zip215: false)', () => {
    const message = new TextEncoder().encode('hostile');
    const { seed, publicKey } = ed25519Generate();
    const good = ed25519Sign(message, seed);
    const withS = (s: bigint) => {
      const sig = good.slice();
      sig.set(le32(s), 32);
      return sig;
    };
    const rAndZeroS = (r: Uint8Array) => {
      const sig = new Uint8Array(64);
      sig.set(r, 0);
      return sig;
    };
    // y of the points of order 1, 2, 4 and 8, canonical; p and p + 1 are non-canonical 0 and 1.
    const smallOrderY = [
      0n,
      1n,
      P - 1n,
      fromLe(Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex')),
      fromLe(Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex')),
    ];
    const cases: [string, Uint8Array, Uint8Array][] = [
      ['S + L (malleated)', withS(fromLe(good.subarray(32)) + L), publicKey],
      ['S = L', withS(L), publicKey],
      ['non-canonical R (p + 1) for the identity key', rAndZeroS(le32(P + 1n)), le32(1n)],
      ['non-canonical key (p + 1)', rAndZeroS(le32(1n)), le32(P + 1n)],
      ...smallOrderY.flatMap((y): [string, Uint8Array, Uint8Array][] =>
        [0n, 1n << 255n].map((sign) => [
          `small-order key y=${y.toString(16).slice(0, 8)} sign=${sign ? 1 : 0}, R = key, S = 0`,
          rAndZeroS(le32(y | sign)),
          le32(y | sign),
        ]),
      ),
      ['identity key, R = identity, S = 0 (verifies any message in OpenSSL)', rAndZeroS(le32(1n)), le32(1n)],
    ];
    it.each(cases)('%s', (_name, signature, key) => {
      expect(ed25519Verify(signature, message, key)).toBe(nobleStrict(signature, message, key));
      expect(ed25519Verify(signature, message, key)).toBe(false);
    });
  });

  it('answers false, never throws, for bytes that are no signature or no key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 40 }),
        messages,
        (sig, key, msg) => {
          expect(ed25519Verify(sig, msg, key)).toBe(nobleStrict(sig, msg, key));
        },
      ),
      { numRuns: 300 },
    );
  });
});
