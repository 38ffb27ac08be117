/**
 * The trust root and its rotation by TUF's rule: a successor needs a threshold of the old keys AND a
 * threshold of its own, and a strictly greater version.
 */

import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, signCose } from '../../../agent/core/cose.js';
import { TrustError } from '../../../agent/ota/errors.js';
import { signManifest } from '../../../agent/ota/manifest.js';
import {
  decodeTrustRoot,
  encodeTrustRoot,
  loadTrust,
  signTrustRoot,
  type TrustRoot,
  trustFromKeys,
  verifyRootRotation,
  verifyTrustRoot,
} from '../../../agent/ota/trust.js';
import { cbor } from '../../support/hand-cbor.js';
import { rejection } from '../../support/rejection.js';
import { tempDirs } from '../../support/temp-dir.js';
import { verifyManifest } from '../../support/verify-manifest.js';

const tempDir = tempDirs('edge-agent-trust-');
const [a, b, c, d, e] = Array.from({ length: 5 }, () => generateKeyPair());
const oldRoot = trustFromKeys([a!.publicKey, b!.publicKey, c!.publicKey], 2);
const next = (over: Partial<TrustRoot> = {}): TrustRoot => ({
  ...trustFromKeys([c!.publicKey, d!.publicKey, e!.publicKey], 2, { version: 2 }),
  ...over,
});

describe('trust root', () => {
  it('round-trips through its CBOR payload', () => {
    const root = trustFromKeys([a!.publicKey, b!.publicKey], 1, { version: 7, expires: 1_900_000_000 });
    expect(decodeTrustRoot(encodeTrustRoot(root))).toEqual({ ok: true, root });
  });

  it('verifies a first root signed by a threshold of its own keys', () => {
    expect(verifyTrustRoot(signTrustRoot(oldRoot, [a!, b!]))).toEqual({ ok: true, root: oldRoot });
  });

  it('refuses a first root signed below its own threshold, or by outsiders', () => {
    expect(verifyTrustRoot(signTrustRoot(oldRoot, [a!]))).toMatchObject({
      ok: false,
      code: 'below-threshold',
    });
    expect(verifyTrustRoot(signTrustRoot(oldRoot, [d!, e!]))).toMatchObject({
      ok: false,
      code: 'unknown-key',
    });
  });

  it.each([
    ['a key listed twice', cbor.array([cbor.bstr(a!.publicKey), cbor.bstr(a!.publicKey)]), 1, /duplicates/],
    [
      'a threshold above the key count',
      cbor.array([cbor.bstr(a!.publicKey)]),
      2,
      /threshold must be .* 1\.\.1/,
    ],
    ['a short key', cbor.array([cbor.bstr(new Uint8Array(31))]), 1, /keys\[0\]" must be a 32-byte/],
  ])('refuses a root payload with %s', (_name, keys, threshold, reason) => {
    const payload = cbor.map([
      [cbor.tstr('type'), cbor.tstr('root')],
      [cbor.tstr('v'), cbor.uint(1)],
      [cbor.tstr('version'), cbor.uint(1)],
      [cbor.tstr('threshold'), cbor.uint(threshold)],
      [cbor.tstr('keys'), keys],
    ]);
    expect(decodeTrustRoot(payload)).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('does not take a signed manifest for a root', () => {
    const m = signManifest(
      {
        v: 1,
        component: 'rootfs',
        version: '1',
        seq: 1,
        hw: ['rpi4'],
        size: 1,
        sha256: new Uint8Array(createHash('sha256').update('x').digest()),
        format: 'raw',
      },
      [a!, b!],
    );
    expect(verifyTrustRoot(m)).toMatchObject({ ok: false, code: 'bad-payload' });
  });

  it('throws TypeError for misuse when built from keys', () => {
    expect(() => trustFromKeys([a!.publicKey], 0)).toThrow(/threshold/);
    expect(() => trustFromKeys([a!.publicKey], 2)).toThrow(/threshold must be an integer in 1\.\.1/);
    expect(() => trustFromKeys([a!.publicKey, a!.publicKey], 1)).toThrow(/duplicates/);
    expect(() => trustFromKeys([new Uint8Array(8)], 1)).toThrow(/publicKeys\[0\] must be a 32-byte/);
    expect(() => trustFromKeys([], 1)).toThrow(/publicKeys/);
  });
});

describe('verifyRootRotation', () => {
  it('accepts a successor signed by a threshold of the old keys and a threshold of the new keys', () => {
    const bytes = signTrustRoot(next(), [a!, b!, d!, e!]);
    expect(verifyRootRotation(oldRoot, bytes)).toEqual({ ok: true, root: next() });
  });

  it('lets a key in both roots count towards both thresholds', () => {
    expect(verifyRootRotation(oldRoot, signTrustRoot(next(), [a!, c!, d!]))).toMatchObject({ ok: true });
  });

  it('refuses a successor signed only by the old keys', () => {
    expect(verifyRootRotation(oldRoot, signTrustRoot(next(), [a!, b!]))).toEqual({
      ok: false,
      code: 'below-new-threshold',
      reason: expect.stringMatching(/not signed by its own keys/),
    });
  });

  it('refuses a successor signed only by the new keys (a thief cannot rotate to his own keys)', () => {
    expect(verifyRootRotation(oldRoot, signTrustRoot(next(), [d!, e!]))).toEqual({
      ok: false,
      code: 'below-old-threshold',
      reason: expect.stringMatching(/not signed by the current root/),
    });
  });

  it('refuses a successor with one old and one new signature where two of each are needed', () => {
    const r = verifyRootRotation(oldRoot, signTrustRoot(next(), [a!, e!]));
    expect(r).toMatchObject({ ok: false, code: 'below-old-threshold' });
  });

  it.each([
    ['the same version as the current root', 2],
    ['a lower version than the current root', 3],
  ])('refuses a successor with %s', (_name, currentVersion) => {
    const current = trustFromKeys([a!.publicKey, b!.publicKey, c!.publicKey], 2, { version: currentVersion });
    const r = verifyRootRotation(current, signTrustRoot(next(), [a!, b!, d!, e!]));
    expect(r).toMatchObject({
      ok: false,
      code: 'not-newer',
      reason: expect.stringMatching(/version 2 is not above/),
    });
  });

  it('walks a chain of rotations and refuses the replay of an older link', () => {
    const v2 = next();
    const v2Bytes = signTrustRoot(v2, [a!, b!, c!, d!]);
    const v3 = trustFromKeys([d!.publicKey, e!.publicKey], 1, { version: 3 });
    const v3Bytes = signTrustRoot(v3, [d!, e!]);
    const step2 = verifyRootRotation(oldRoot, v2Bytes);
    expect(step2.ok).toBe(true);
    const step3 = verifyRootRotation(v2, v3Bytes);
    expect(step3).toEqual({ ok: true, root: v3 });
    expect(verifyRootRotation(v3, v2Bytes)).toMatchObject({ ok: false, code: 'not-newer' });
  });

  it('moves manifest trust to the new keys', () => {
    const manifest = signManifest(
      {
        v: 1,
        component: 'agent',
        version: '2',
        seq: 5,
        hw: ['sim'],
        size: 10,
        sha256: new Uint8Array(32),
        format: 'tar',
      },
      [d!, e!],
    );
    const ctx = { board: 'sim', component: 'agent', committedSeq: 4, nowMs: 0 };
    expect(verifyManifest(manifest, { ...ctx, trust: oldRoot })).toMatchObject({
      ok: false,
      code: 'unknown-key',
    });
    expect(verifyManifest(manifest, { ...ctx, trust: next() })).toMatchObject({ ok: true });
  });

  it('refuses a successor that has already expired, when told the time', () => {
    const bytes = signTrustRoot(next({ expires: 1000 }), [a!, b!, d!, e!]);
    expect(verifyRootRotation(oldRoot, bytes, { nowMs: 1_000_000 })).toMatchObject({
      ok: false,
      code: 'expired',
    });
    expect(verifyRootRotation(oldRoot, bytes, { nowMs: 999_999 })).toMatchObject({ ok: true });
  });

  it('never throws on random bytes or signed garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, sign) => {
        const input = sign ? signCose(bytes, [a!, b!]) : bytes;
        expect(verifyRootRotation(oldRoot, input).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('loadTrust', () => {
  it('loads a self-signed root file', async () => {
    const file = path.join(await tempDir(), 'root.cose');
    await writeFile(file, signTrustRoot(oldRoot, [b!, c!]));
    expect(await loadTrust(file)).toEqual(oldRoot);
  });

  it('throws TrustError naming the file when it is missing or does not verify', async () => {
    const dir = await tempDir();
    const missing = await rejection(loadTrust(path.join(dir, 'nope.cose')));
    expect(missing).toBeInstanceOf(TrustError);
    expect(missing).toMatchObject({
      code: 'ETRUST_READ',
      message: expect.stringMatching(/nope\.cose: cannot read/),
    });
    const file = path.join(dir, 'root.cose');
    await writeFile(file, signTrustRoot(oldRoot, [a!]));
    expect(await rejection(loadTrust(file))).toMatchObject({
      code: 'ETRUST_INVALID',
      message: expect.stringMatching(/root\.cose: root is not signed by its own keys/),
    });
  });
});
