/**
 * COSE_Sign1 / COSE_Sign over Ed25519: RFC 8032 §7.1 vectors through our key handling, the cose-wg
 * Ed25519 examples, interop with the openssl command in both directions (the COSE framing around it
 * is written by hand in this file, not by cbor-x; ed25519.test.ts checks the signatures themselves
 * against @noble/curves), a reject table, and fast-check properties that hostile bytes never throw.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCose,
  generateKeyPair,
  kidOf,
  MAX_COSE_BYTES,
  signCose,
  signEd25519,
  verifyCose,
  verifyEd25519,
} from '../../../agent/core/cose.js';
import {
  parsePrivateKeyPem,
  parsePublicKeyPem,
  privateKeyToPem,
  publicKeyOf,
  publicKeyToPem,
} from '../../../agent/core/ed25519-keys.js';
import { concatBytes } from '../../support/concat-bytes.js';
import { cbor, headOf, hexBytes } from '../../support/hand-cbor.js';
import { toolPath } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-cose-');

/** RFC 8032 §7.1 TEST 1–3 (Ed25519). */
const RFC8032 = [
  {
    name: 'TEST 1 (empty message)',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pub: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

function openssl(args: string[], input?: Uint8Array | string): Buffer {
  return execFileSync(toolPath('openssl'), args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A key pair made by `openssl genpkey`, read back through our PEM parsers. */
async function opensslKey(dir: string, name: string) {
  const privateFile = path.join(dir, `${name}.pem`);
  const publicFile = path.join(dir, `${name}.pub.pem`);
  openssl(['genpkey', '-algorithm', 'ed25519', '-out', privateFile]);
  openssl(['pkey', '-in', privateFile, '-pubout', '-out', publicFile]);
  const priv = parsePrivateKeyPem(await readFile(privateFile, 'utf8'));
  const pub = parsePublicKeyPem(await readFile(publicFile, 'utf8'));
  if (!priv.ok || !pub.ok) throw new Error('openssl key did not parse');
  return { privateFile, publicFile, pair: priv.value, publicKey: pub.value };
}

async function opensslSign(dir: string, privateFile: string, message: Uint8Array): Promise<Uint8Array> {
  const msgFile = path.join(dir, `msg-${Math.random().toString(16).slice(2)}.bin`);
  await writeFile(msgFile, message);
  return new Uint8Array(openssl(['pkeyutl', '-sign', '-rawin', '-inkey', privateFile, '-in', msgFile]));
}

async function opensslVerify(dir: string, publicFile: string, message: Uint8Array, sig: Uint8Array) {
  const msgFile = path.join(dir, 'verify-msg.bin');
  const sigFile = path.join(dir, 'verify-sig.bin');
  await writeFile(msgFile, message);
  await writeFile(sigFile, sig);
  try {
    const out = openssl([
      'pkeyutl',
      '-verify',
      '-rawin',
      '-pubin',
      '-inkey',
      publicFile,
      '-in',
      msgFile,
      '-sigfile',
      sigFile,
    ]);
    return out.toString().includes('Signature Verified Successfully');
  } catch {
    return false;
  }
}

const PROTECTED_EDDSA = hexBytes('a10127');

/** Sig_structure for COSE_Sign1, by hand (RFC 9052 §4.4). */
function handSigStructure1(prot: Uint8Array, payload: Uint8Array): Uint8Array {
  return cbor.array([
    cbor.tstr('Signature1'),
    cbor.bstr(prot),
    cbor.bstr(new Uint8Array(0)),
    cbor.bstr(payload),
  ]);
}

/** A COSE_Sign1 by hand: 18([protected, {4: kid}, payload, signature]). */
function handSign1(prot: Uint8Array, kid: Uint8Array, payload: Uint8Array, sig: Uint8Array): Uint8Array {
  return cbor.tag(
    18,
    cbor.array([
      cbor.bstr(prot),
      cbor.map([[cbor.uint(4), cbor.bstr(kid)]]),
      cbor.bstr(payload),
      cbor.bstr(sig),
    ]),
  );
}

describe('Ed25519 keys', () => {
  it.each(RFC8032)('reproduces RFC 8032 $name through PEM round trips', (v) => {
    const seed = hexBytes(v.seed);
    const parsed = parsePrivateKeyPem(privateKeyToPem(seed));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Buffer.from(parsed.value.privateKey).toString('hex')).toBe(v.seed);
    expect(Buffer.from(parsed.value.publicKey).toString('hex')).toBe(v.pub);
    const pub = parsePublicKeyPem(publicKeyToPem(hexBytes(v.pub)));
    expect(pub.ok && Buffer.from(pub.value).toString('hex')).toBe(v.pub);
    const sig = signEd25519(hexBytes(v.msg), parsed.value);
    expect(Buffer.from(sig).toString('hex')).toBe(v.sig);
    expect(verifyEd25519(hexBytes(v.sig), hexBytes(v.msg), hexBytes(v.pub))).toBe(true);
  });

  it('writes the PEM files openssl writes for the same key', async () => {
    const dir = await tempDir();
    const seed = hexBytes(RFC8032[0]!.seed);
    const ours = privateKeyToPem(seed);
    await writeFile(path.join(dir, 'k.pem'), ours);
    // openssl re-serialises the PKCS#8 key and derives the SPKI public key: both byte-identical to ours.
    expect(openssl(['pkey', '-in', path.join(dir, 'k.pem')]).toString()).toBe(ours);
    expect(openssl(['pkey', '-in', path.join(dir, 'k.pem'), '-pubout']).toString()).toBe(
      publicKeyToPem(hexBytes(RFC8032[0]!.pub)),
    );
  });

  it('reads keys made by openssl genpkey, and derives the same public key openssl does', async () => {
    const key = await opensslKey(await tempDir(), 'fleet');
    expect(key.pair.publicKey).toEqual(key.publicKey);
    expect(publicKeyOf(key.pair)).toEqual(key.publicKey);
  });

  it('computes the kid as the first 8 bytes of SHA-256 of the raw public key', () => {
    const pub = hexBytes(RFC8032[0]!.pub);
    const expected = createHash('sha256').update(pub).digest().subarray(0, 8);
    expect(Buffer.from(kidOf(pub))).toEqual(expected);
  });

  it('returns a reason for text that is not an Ed25519 key', async () => {
    const dir = await tempDir();
    openssl(['genpkey', '-algorithm', 'x25519', '-out', path.join(dir, 'x.pem')]);
    const x25519 = await readFile(path.join(dir, 'x.pem'), 'utf8');
    expect(parsePrivateKeyPem(x25519)).toEqual({
      ok: false,
      reason: expect.stringMatching(/Ed25519.*x25519/),
    });
    expect(parsePrivateKeyPem('hello')).toEqual({
      ok: false,
      reason: expect.stringMatching(/not a private key/),
    });
    expect(parsePublicKeyPem(new Uint8Array([0x30, 0x03, 0x02, 0x01]))).toMatchObject({ ok: false });
    // A public key where a private one is needed is a reason, not a crash.
    expect(parsePrivateKeyPem(publicKeyToPem(hexBytes(RFC8032[0]!.pub)))).toMatchObject({ ok: false });
  });

  it('throws TypeError naming the parameter for keys of the wrong length', () => {
    expect(() => kidOf(new Uint8Array(31))).toThrow(/publicKey must be a 32-byte/);
    expect(() => signCose(new Uint8Array(1), [new Uint8Array(64)])).toThrow(/keys\[0\] must be a 32-byte/);
    expect(() => verifyCose(new Uint8Array(1), [new Uint8Array(33)], 1)).toThrow(/keys\[0\]/);
    expect(() => verifyCose(new Uint8Array(1), [], 0)).toThrow(/threshold/);
    expect(() => privateKeyToPem(new Uint8Array(16))).toThrow(TypeError);
  });
});

describe('COSE signing and verification', () => {
  const payload = new TextEncoder().encode('an update manifest');

  it('signs with one key as a COSE_Sign1 with protected {1: -8} and unprotected {4: kid}', () => {
    const k = generateKeyPair();
    const bytes = signCose(payload, [k]);
    // The exact layout another implementation would write, built by hand.
    const sig = bytes.subarray(bytes.length - 64);
    expect(bytes).toEqual(handSign1(PROTECTED_EDDSA, kidOf(k.publicKey), payload, sig));
    const r = verifyCose(bytes, [k.publicKey], 1);
    expect(r).toMatchObject({ ok: true, payload, kids: [kidOf(k.publicKey)] });
  });

  it('signs with several keys as a COSE_Sign that meets a threshold of distinct keys', () => {
    const [a, b, c] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
    const bytes = signCose(payload, [a, b]);
    expect([bytes[0], bytes[1]]).toEqual([0xd8, 98]);
    const trusted = [a.publicKey, b.publicKey, c.publicKey];
    expect(verifyCose(bytes, trusted, 2)).toMatchObject({
      ok: true,
      kids: [kidOf(a.publicKey), kidOf(b.publicKey)],
    });
    expect(verifyCose(bytes, trusted, 3)).toMatchObject({ ok: false, code: 'below-threshold' });
  });

  it('counts the same key signing twice once', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const bytes = signCose(payload, [a, a]);
    expect(verifyCose(bytes, [a.publicKey, b.publicKey], 2)).toMatchObject({
      ok: false,
      code: 'below-threshold',
    });
  });

  it('ignores an unknown co-signer when the threshold is met without it', () => {
    const [a, stranger] = [generateKeyPair(), generateKeyPair()];
    expect(verifyCose(signCose(payload, [stranger, a]), [a.publicKey], 1)).toMatchObject({ ok: true });
  });

  it('binds external AAD into the signature', () => {
    const k = generateKeyPair();
    const aad = new TextEncoder().encode('device-42');
    const bytes = signCose(payload, [k], { externalAad: aad });
    expect(verifyCose(bytes, [k.publicKey], 1, { externalAad: aad })).toMatchObject({ ok: true });
    expect(verifyCose(bytes, [k.publicKey], 1)).toMatchObject({ ok: false, code: 'bad-signature' });
  });
});

describe('interop with an independent implementation (OpenSSL Ed25519, hand-written COSE framing)', () => {
  const payload = new TextEncoder().encode('{"component":"rootfs"}');

  it('accepts a COSE_Sign1 whose Sig_structure was built by hand and signed by openssl pkeyutl', async () => {
    const dir = await tempDir();
    const key = await opensslKey(dir, 'release');
    const sig = await opensslSign(dir, key.privateFile, handSigStructure1(PROTECTED_EDDSA, payload));
    const message = handSign1(PROTECTED_EDDSA, kidOf(key.publicKey), payload, sig);
    expect(verifyCose(message, [key.publicKey], 1)).toMatchObject({ ok: true, payload });
  });

  it('accepts a COSE_Sign with two openssl signatures and an empty body protected header', async () => {
    const dir = await tempDir();
    const keys = [await opensslKey(dir, 'a'), await opensslKey(dir, 'b')];
    const toBeSigned = cbor.array([
      cbor.tstr('Signature'),
      cbor.bstr(new Uint8Array(0)),
      cbor.bstr(PROTECTED_EDDSA),
      cbor.bstr(new Uint8Array(0)),
      cbor.bstr(payload),
    ]);
    const signatures = await Promise.all(
      keys.map(async (k) =>
        cbor.array([
          cbor.bstr(PROTECTED_EDDSA),
          cbor.map([[cbor.uint(4), cbor.bstr(kidOf(k.publicKey))]]),
          cbor.bstr(await opensslSign(dir, k.privateFile, toBeSigned)),
        ]),
      ),
    );
    const message = cbor.tag(
      98,
      cbor.array([cbor.bstr(new Uint8Array(0)), cbor.map([]), cbor.bstr(payload), cbor.array(signatures)]),
    );
    expect(
      verifyCose(
        message,
        keys.map((k) => k.publicKey),
        2,
      ),
    ).toMatchObject({ ok: true });
  });

  it('produces a COSE_Sign1 whose signature openssl pkeyutl verifies over the hand-built Sig_structure', async () => {
    const dir = await tempDir();
    const key = await opensslKey(dir, 'release');
    const message = signCose(payload, [key.pair]);
    const sig = message.subarray(message.length - 64);
    expect(message).toEqual(handSign1(PROTECTED_EDDSA, kidOf(key.publicKey), payload, sig));
    const tbs = handSigStructure1(PROTECTED_EDDSA, payload);
    expect(await opensslVerify(dir, key.publicFile, tbs, sig)).toBe(true);
    // And openssl is really checking: a different payload fails.
    expect(
      await opensslVerify(dir, key.publicFile, handSigStructure1(PROTECTED_EDDSA, new Uint8Array(1)), sig),
    ).toBe(false);
  });

  // cose-wg/Examples (RFC 8152 WG vectors): eddsa-sig-01 (COSE_Sign1) and eddsa-01 (COSE_Sign), signed with
  // the RFC 8032 TEST 1 key, kid "11", protected headers that carry content type 0 next to alg.
  const COSE_WG_SIGN1 =
    'D28445A201270300A10442313154546869732069732074686520636F6E74656E742E58407142FD2FF96D56DB85BEE905A76BA1D0B7321A95C8C4D3607C5781932B7AFB8711497DFA751BF40B58B3BCC32300B1487F3DB34085EEF013BF08F4A44D6FEF0D';
  const COSE_WG_SIGN =
    'D8628443A10300A054546869732069732074686520636F6E74656E742E818343A10127A104423131584077F3EACD11852C4BF9CB1D72FABE6B26FBA1D76092B2B5B7EC83B83557652264E69690DBC1172DDC0BF88411C0D25A507FDB247A20C40D5E245FABD3FC9EC106';

  it.each([
    ['eddsa-sig-01 (COSE_Sign1)', COSE_WG_SIGN1],
    ['eddsa-01 (COSE_Sign)', COSE_WG_SIGN],
  ])('parses and verifies the cose-wg example %s', (_name, hex) => {
    const decoded = decodeCose(hexBytes(hex));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(new TextDecoder().decode(decoded.value.payload)).toBe('This is the content.');
    const [s] = decoded.value.signatures;
    expect(verifyEd25519(s!.signature, s!.toBeSigned, hexBytes(RFC8032[0]!.pub))).toBe(true);
    // Its kid "11" is not our key-id scheme, so under our profile the signer is unknown.
    expect(verifyCose(hexBytes(hex), [hexBytes(RFC8032[0]!.pub)], 1)).toMatchObject({
      ok: false,
      code: 'unknown-key',
    });
  });
});

describe('rejects malformed or forged COSE with a reason', () => {
  const k = generateKeyPair();
  const other = generateKeyPair();
  const payload = new TextEncoder().encode('payload');
  const kid = kidOf(k.publicKey);
  const tbs = handSigStructure1(PROTECTED_EDDSA, payload);
  const sig = signEd25519(tbs, k);
  const good = handSign1(PROTECTED_EDDSA, kid, payload, sig);
  const withProt = (prot: Uint8Array) =>
    handSign1(prot, kid, payload, signEd25519(handSigStructure1(prot, payload), k));
  const arr = (items: Uint8Array[], tag = 18) => cbor.tag(tag, cbor.array(items));
  const unprot = cbor.map([[cbor.uint(4), cbor.bstr(kid)]]);

  const cases: [string, Uint8Array, string, RegExp][] = [
    [
      'a wrong tag',
      arr([cbor.bstr(PROTECTED_EDDSA), unprot, cbor.bstr(payload), cbor.bstr(sig)], 17),
      'bad-cose',
      /tag 17/,
    ],
    [
      'a missing tag',
      cbor.array([cbor.bstr(PROTECTED_EDDSA), unprot, cbor.bstr(payload), cbor.bstr(sig)]),
      'bad-cose',
      /not a tagged/,
    ],
    [
      'a wrong alg (ES256)',
      withProt(cbor.map([[cbor.uint(1), cbor.nint(-7)]])),
      'bad-cose',
      /alg must be EdDSA/,
    ],
    ['no alg at all', withProt(new Uint8Array(0)), 'bad-cose', /alg must be EdDSA/],
    [
      'a protected header that is a map, not a bstr',
      arr([PROTECTED_EDDSA, unprot, cbor.bstr(payload), cbor.bstr(sig)]),
      'bad-cose',
      /protected header must be a byte string/,
    ],
    [
      'a protected header that is not CBOR',
      withProt(hexBytes('a101')),
      'bad-cose',
      /malformed protected header/,
    ],
    [
      'a critical header',
      withProt(
        cbor.map([
          [cbor.uint(1), cbor.nint(-8)],
          [cbor.uint(2), cbor.array([cbor.uint(99)])],
        ]),
      ),
      'bad-cose',
      /critical/,
    ],
    [
      'duplicate labels in the protected header',
      withProt(
        cbor.map([
          [cbor.uint(1), cbor.nint(-8)],
          [cbor.uint(1), cbor.nint(-7)],
        ]),
      ),
      'bad-cose',
      /duplicate map key/,
    ],
    [
      'a detached (nil) payload',
      arr([cbor.bstr(PROTECTED_EDDSA), unprot, cbor.nil, cbor.bstr(sig)]),
      'bad-cose',
      /detached/,
    ],
    [
      'a short signature',
      arr([cbor.bstr(PROTECTED_EDDSA), unprot, cbor.bstr(payload), cbor.bstr(sig.subarray(1))]),
      'bad-cose',
      /64-byte/,
    ],
    [
      'no kid',
      arr([cbor.bstr(PROTECTED_EDDSA), cbor.map([]), cbor.bstr(payload), cbor.bstr(sig)]),
      'bad-cose',
      /kid/,
    ],
    [
      'three elements',
      arr([cbor.bstr(PROTECTED_EDDSA), unprot, cbor.bstr(payload)]),
      'bad-cose',
      /3 elements/,
    ],
    ['a truncated message', good.subarray(0, good.length - 1), 'bad-cose', /truncated/],
    ['extra bytes after the message', concatBytes([good, Uint8Array.of(0)]), 'bad-cose', /trailing/],
    ['an oversized message', new Uint8Array(MAX_COSE_BYTES + 1), 'bad-cose', /exceeds the limit/],
    [
      'an indefinite-length array',
      concatBytes([
        Uint8Array.of(0xd2, 0x9f),
        cbor.bstr(PROTECTED_EDDSA),
        unprot,
        cbor.bstr(payload),
        cbor.bstr(sig),
        Uint8Array.of(0xff),
      ]),
      'bad-cose',
      /indefinite/,
    ],
    [
      'a nested tag (cbor-x extension bait)',
      arr([
        cbor.bstr(PROTECTED_EDDSA),
        unprot,
        cbor.tag(27, cbor.array([cbor.tstr('Error')])),
        cbor.bstr(sig),
      ]),
      'bad-cose',
      /unexpected tag 27/,
    ],
    [
      'a non-minimal huge length',
      concatBytes([Uint8Array.of(0xd2), headOf(4, 2 ** 40, 8)]),
      'bad-cose',
      /truncated/,
    ],
    [
      'a tampered payload',
      handSign1(PROTECTED_EDDSA, kid, new TextEncoder().encode('pAyload'), sig),
      'bad-signature',
      /failed/,
    ],
    [
      'a kid naming another trusted key',
      handSign1(PROTECTED_EDDSA, kidOf(other.publicKey), payload, sig),
      'bad-signature',
      /failed/,
    ],
    [
      'a kid of no trusted key',
      handSign1(PROTECTED_EDDSA, hexBytes('0011223344556677'), payload, sig),
      'unknown-key',
      /not in the trusted set/,
    ],
  ];

  it.each(cases)('rejects %s', (_name, bytes, code, reason) => {
    const r = verifyCose(bytes, [k.publicKey, other.publicKey], 1);
    expect(r).toEqual({ ok: false, code, reason: expect.stringMatching(reason) });
  });

  it('accepts the unmodified message the table mutates', () => {
    expect(verifyCose(good, [k.publicKey, other.publicKey], 1)).toMatchObject({ ok: true });
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const r = verifyCose(bytes, [k.publicKey], 1);
        expect(r.ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random bytes behind a COSE_Sign1 or COSE_Sign tag', () => {
    fc.assert(
      fc.property(fc.constantFrom(0xd2, 0xd8), fc.uint8Array({ maxLength: 256 }), (first, rest) => {
        const bytes =
          first === 0xd2
            ? concatBytes([Uint8Array.of(0xd2), rest])
            : concatBytes([Uint8Array.of(0xd8, 98), rest]);
        expect(verifyCose(bytes, [k.publicKey], 1).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts a valid message with any single byte changed', () => {
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bytes = new Uint8Array(good);
        bytes[at]! ^= xor;
        expect(verifyCose(bytes, [k.publicKey], 1).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
