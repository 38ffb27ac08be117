/**
 * Device-signed COSE_Sign1 with either key type: EdDSA objects are exactly core/cose.ts's, ES256 ones
 * interoperate with OpenSSL (the independent ECDSA implementation here, verifying our Sig_structure
 * and signing one we verify), a reject table, and fast-check: hostile bytes never throw.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signDeviceCose1, verifyDeviceCose1 } from '../../../agent/attest/device-cose.js';
import {
  ALG_ES256,
  base32,
  deviceKidOf,
  devicePublicKeyToPem,
  parseDevicePublicKey,
} from '../../../agent/attest/device-key.js';
import { ecdsaDerToRaw } from '../../../agent/attest/es256.js';
import { kidOf, signCose, sigStructure1, verifyCose } from '../../../agent/core/cose.js';
import { ed25519TestSigner, p256TestSigner } from '../../support/device-signers.js';
import { cbor } from '../../support/hand-cbor.js';
import { toolPath } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-device-cose-');
const payload = new TextEncoder().encode('evidence');

describe('device COSE_Sign1', () => {
  it('signs with an Ed25519 identity byte-for-byte as core signCose does, so fleet verifiers read it', async () => {
    const signer = ed25519TestSigner();
    const ours = await signDeviceCose1(payload, signer);
    expect(Buffer.from(ours).toString('hex')).toBe(
      Buffer.from(signCose(payload, [signer.seed])).toString('hex'),
    );
    expect(verifyCose(ours, [signer.publicKey], 1)).toMatchObject({ ok: true });
    expect(deviceKidOf(signer.publicKey)).toEqual(kidOf(signer.publicKey));
    expect(verifyDeviceCose1(ours, signer.publicKey)).toMatchObject({ ok: true, alg: -8, payload });
  });

  it('signs ES256 with protected {1: -7} and the kid of the 65-byte point, and verifies it', async () => {
    const signer = p256TestSigner();
    const bytes = await signDeviceCose1(payload, signer);
    const expectedHead = Buffer.concat([
      Buffer.from([0xd2, 0x84]),
      Buffer.from(cbor.bstr(Uint8Array.of(0xa1, 0x01, 0x26))),
      Buffer.from([0xa1, 0x04]),
      Buffer.from(cbor.bstr(signer.kid)),
    ]);
    expect(Buffer.from(bytes).subarray(0, expectedHead.length)).toEqual(expectedHead);
    expect(verifyDeviceCose1(bytes, signer.publicKey)).toMatchObject({ ok: true, alg: ALG_ES256 });
  });

  it('ES256 signatures verify with OpenSSL, and OpenSSL signatures verify here', async () => {
    const dir = await tempDir();
    const signer = p256TestSigner();
    const bytes = await signDeviceCose1(payload, signer);
    const tbs = sigStructure1(Uint8Array.of(0xa1, 0x01, 0x26), new Uint8Array(0), payload);
    const sigRaw = new Uint8Array(bytes.subarray(bytes.length - 64));
    await writeFile(path.join(dir, 'pub.pem'), devicePublicKeyToPem(signer.publicKey));
    await writeFile(path.join(dir, 'tbs'), tbs);
    await writeFile(path.join(dir, 'sig.der'), p256.Signature.fromBytes(sigRaw).toBytes('der'));
    const out = execFileSync(toolPath('openssl'), [
      ...['dgst', '-sha256', '-verify', path.join(dir, 'pub.pem')],
      ...['-signature', path.join(dir, 'sig.der'), path.join(dir, 'tbs')],
    ]).toString();
    expect(out.trim()).toBe('Verified OK');

    // OpenSSL signs a Sig_structure with its own P-256 key; we assemble and verify the COSE object.
    execFileSync(toolPath('openssl'), [
      'ecparam',
      '-name',
      'prime256v1',
      '-genkey',
      '-noout',
      '-out',
      path.join(dir, 'k.pem'),
    ]);
    const pem = execFileSync(toolPath('openssl'), [
      'pkey',
      '-in',
      path.join(dir, 'k.pem'),
      '-pubout',
    ]).toString();
    const parsed = parseDevicePublicKey(pem);
    if (!parsed.ok) throw new Error(parsed.reason);
    execFileSync(toolPath('openssl'), [
      ...['dgst', '-sha256', '-sign', path.join(dir, 'k.pem')],
      ...['-out', path.join(dir, 'ossl.der'), path.join(dir, 'tbs')],
    ]);
    const der = await readFile(path.join(dir, 'ossl.der'));
    const cose = cbor.tag(
      18,
      cbor.array([
        cbor.bstr(Uint8Array.of(0xa1, 0x01, 0x26)),
        cbor.map([[cbor.uint(4), cbor.bstr(deviceKidOf(parsed.publicKey))]]),
        cbor.bstr(payload),
        cbor.bstr(ecdsaDerToRaw(new Uint8Array(der))),
      ]),
    );
    expect(verifyDeviceCose1(cose, parsed.publicKey)).toMatchObject({ ok: true, alg: ALG_ES256 });
  });

  it('accepts a high-S ES256 signature (a TPM does not normalise s; COSE does not require it)', async () => {
    const signer = p256TestSigner();
    const tbs = sigStructure1(Uint8Array.of(0xa1, 0x01, 0x26), new Uint8Array(0), payload);
    const sig = p256.Signature.fromBytes(await signer.sign(tbs));
    const n = p256.Point.CURVE().n;
    const highS = new p256.Signature(sig.r, sig.s > n / 2n ? sig.s : n - sig.s).toBytes();
    const cose = cbor.tag(
      18,
      cbor.array([
        cbor.bstr(Uint8Array.of(0xa1, 0x01, 0x26)),
        cbor.map([[cbor.uint(4), cbor.bstr(signer.kid)]]),
        cbor.bstr(payload),
        cbor.bstr(highS),
      ]),
    );
    expect(verifyDeviceCose1(cose, signer.publicKey)).toMatchObject({ ok: true });
  });

  it('derives a 13-character base32 device id from the 8-byte kid (RFC 4648 test vector "foobar")', () => {
    expect(base32(new TextEncoder().encode('foobar'))).toBe('mzxw6ytboi');
    expect(base32(deviceKidOf(p256TestSigner().publicKey))).toMatch(/^[a-z2-7]{13}$/);
  });

  // RFC 4648 §10, the BASE32 test vectors as printed; the device id is the same text in lower case
  // without the `=` padding (docs/wire-formats.md "Device id").
  it.each([
    ['', ''],
    ['f', 'MY======'],
    ['fo', 'MZXQ===='],
    ['foo', 'MZXW6==='],
    ['foob', 'MZXW6YQ='],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI======'],
  ])('writes BASE32("%s") = "%s" lower-cased and unpadded', (input, rfc) => {
    expect(base32(new TextEncoder().encode(input))).toBe(rfc.toLowerCase().replace(/=+$/, ''));
  });
});

describe('device COSE_Sign1 rejections', () => {
  it.each([
    [
      'another device key of the same type',
      'key-mismatch',
      async () => ({ key: ed25519TestSigner().publicKey }),
    ],
    ['a key of the other type', 'key-mismatch', async () => ({ key: p256TestSigner().publicKey })],
    [
      'a changed payload',
      'bad-signature',
      async (bytes: Uint8Array) => {
        const b = new Uint8Array(bytes);
        b[b.length - 70]! ^= 1; // inside the payload bstr ("evidence")
        return { bytes: b };
      },
    ],
    ['an untagged object', 'bad-cose', async (bytes: Uint8Array) => ({ bytes: bytes.subarray(1) })],
    ['trailing bytes', 'bad-cose', async (bytes: Uint8Array) => ({ bytes: Uint8Array.of(...bytes, 0) })],
  ])('refuses %s (%s)', async (_what, code, mutate) => {
    const signer = ed25519TestSigner();
    const bytes = await signDeviceCose1(payload, signer);
    const m = (await mutate(bytes)) as { key?: Uint8Array; bytes?: Uint8Array };
    expect(verifyDeviceCose1(m.bytes ?? bytes, m.key ?? signer.publicKey)).toMatchObject({ ok: false, code });
  });

  it('refuses a protected header naming another algorithm, or listing crit', async () => {
    const signer = ed25519TestSigner();
    for (const prot of [Uint8Array.of(0xa1, 0x01, 0x22), Uint8Array.of(0xa2, 0x01, 0x27, 0x02, 0x81, 0x01)]) {
      const cose = cbor.tag(
        18,
        cbor.array([
          cbor.bstr(prot),
          cbor.map([[cbor.uint(4), cbor.bstr(signer.kid)]]),
          cbor.bstr(payload),
          cbor.bstr(new Uint8Array(64)),
        ]),
      );
      expect(verifyDeviceCose1(cose, signer.publicKey)).toMatchObject({ ok: false, code: 'bad-cose' });
    }
  });

  it('never throws on arbitrary bytes or mutations of a valid object', async () => {
    const signer = p256TestSigner();
    const valid = await signDeviceCose1(payload, signer);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(verifyDeviceCose1(bytes, signer.publicKey).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const b = new Uint8Array(valid);
        b[at]! ^= xor;
        expect(verifyDeviceCose1(b, signer.publicKey).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('treats a key of the wrong size as misuse (TypeError naming the parameter)', () => {
    expect(() => verifyDeviceCose1(new Uint8Array(10), new Uint8Array(33))).toThrow(/publicKey/);
  });
});
