/**
 * Evidence forms the standards allow and other attesters write, which `attest verify` must read though
 * the device never writes them: RFC 9711 §4.1 `eat_nonce` as an array (`nonce-type / [ 2* nonce-type ]`,
 * nonce-type `bstr .size (8..64)`) — good when the expected nonce is one of them — and RFC 8392 §6's CWT
 * tag 61 around the tagged COSE_Sign1, `61(18([...]))`. The claims set and the COSE_Sign1 are written
 * by hand (test/support/hand-cbor.ts) and signed with @noble/curves, so our encoders are not involved.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { verifyEvidence } from '../../../agent/attest/verify-evidence.js';
import { readSignedFile } from '../../../agent/cli/attest/attest-verify.js';
import { ed25519TestSigner } from '../../support/device-signers.js';
import { cbor, hexBytes } from '../../support/hand-cbor.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-evidence-forms-');
const signer = ed25519TestSigner();
const nonceA = hexBytes('00112233445566778899aabbccddeeff');
const nonceB = hexBytes('ffeeddccbbaa99887766554433221100');
const nonceC = hexBytes('0102030405060708');

/** An EAT claims set as this profile lays it out, with `nonceItem` as claim 10. */
function claimsWith(nonceItem: Uint8Array): Uint8Array {
  const ueid = Uint8Array.of(0x01, ...createHash('sha256').update(signer.publicKey).digest());
  const measurement = cbor.map([
    [cbor.tstr('name'), cbor.tstr('agent')],
    [cbor.tstr('digest'), cbor.array([cbor.nint(-16), cbor.bstr(new Uint8Array(32).fill(0xaa))])],
  ]);
  return cbor.map([
    [cbor.uint(2), cbor.tstr('gw-0042')], // sub
    [cbor.uint(6), cbor.uint(1768465811)], // iat
    [cbor.uint(10), nonceItem], // eat_nonce
    [cbor.uint(256), cbor.bstr(ueid)], // ueid
    [cbor.uint(261), cbor.uint(3600)], // uptime
    [cbor.uint(265), cbor.tstr('tag:edge-agent.invalid,2025:eat-v1')], // eat_profile
    [cbor.uint(267), cbor.uint(7)], // bootcount
    [cbor.uint(268), cbor.bstr(new Uint8Array(16).fill(0xb0))], // bootseed
    [cbor.uint(270), cbor.tstr('edge-agent')], // swname
    [cbor.uint(271), cbor.array([cbor.tstr('0.3.1'), cbor.uint(16384)])], // swversion
    [cbor.uint(273), cbor.array([cbor.array([cbor.uint(60), cbor.bstr(measurement)])])], // measurements
  ]);
}

/** `18([h'a10127', {4: kid}, payload, signature])`, signed over the hand-written Sig_structure. */
function sign1(payload: Uint8Array): Uint8Array {
  const prot = hexBytes('a1 01 27');
  const tbs = cbor.array([
    cbor.tstr('Signature1'),
    cbor.bstr(prot),
    cbor.bstr(new Uint8Array(0)),
    cbor.bstr(payload),
  ]);
  const signature = ed25519.sign(tbs, signer.seed);
  return cbor.tag(
    18,
    cbor.array([
      cbor.bstr(prot),
      cbor.map([[cbor.uint(4), cbor.bstr(signer.kid)]]),
      cbor.bstr(payload),
      cbor.bstr(signature),
    ]),
  );
}

const verify = (bytes: Uint8Array, nonce: Uint8Array) =>
  verifyEvidence(bytes, { publicKey: signer.publicKey, nonce });

describe('eat_nonce as an array (RFC 9711 §4.1)', () => {
  const twoNonces = sign1(claimsWith(cbor.array([cbor.bstr(nonceA), cbor.bstr(nonceB)])));

  it('verifies when the expected nonce is any one of them', () => {
    expect(verify(twoNonces, nonceA)).toMatchObject({ ok: true, claims: { nonce: [nonceA, nonceB] } });
    expect(verify(twoNonces, nonceB)).toMatchObject({ ok: true });
  });

  it('is wrong-nonce when the expected nonce is none of them, naming them all', () => {
    const verdict = verify(twoNonces, nonceC);
    expect(verdict).toMatchObject({ ok: false, code: 'wrong-nonce' });
    expect(!verdict.ok && verdict.reason).toContain(
      `${Buffer.from(nonceA).toString('hex')}, ${Buffer.from(nonceB).toString('hex')}`,
    );
  });

  it.each([
    ['an array of one (the CDDL asks for two or more)', cbor.array([cbor.bstr(nonceA)])],
    ['an empty array', cbor.array([])],
    [
      'an array holding a 7-byte nonce',
      cbor.array([cbor.bstr(nonceA), cbor.bstr(hexBytes('01020304050607'))]),
    ],
    ['an array holding text', cbor.array([cbor.bstr(nonceA), cbor.tstr('0011223344556677')])],
    ['a single 65-byte nonce', cbor.bstr(new Uint8Array(65))],
  ])('refuses %s as bad-claims', (_what, item) => {
    expect(verify(sign1(claimsWith(item)), nonceA)).toMatchObject({ ok: false, code: 'bad-claims' });
  });

  it('still verifies the single nonce the device writes', () => {
    expect(verify(sign1(claimsWith(cbor.bstr(nonceA))), nonceA)).toMatchObject({
      ok: true,
      claims: { nonce: nonceA },
    });
  });
});

describe('the CWT tag (RFC 8392 §6)', () => {
  const evidence = sign1(claimsWith(cbor.bstr(nonceA)));

  it('verifies evidence tagged 61(18(...)) — the CWT tag in front of the COSE tag', () => {
    const tagged = cbor.tag(61, evidence);
    expect(tagged.subarray(0, 3)).toEqual(hexBytes('d8 3d d2'));
    expect(verify(tagged, nonceA)).toMatchObject({ ok: true });
  });

  it('accepts a tag number written with a longer head (d9 00 3d): well-formed, if not preferred', () => {
    expect(verify(Uint8Array.of(0xd9, 0x00, 0x3d, ...evidence), nonceA)).toMatchObject({ ok: true });
  });

  it.each([
    ['an untagged COSE_Sign1 array', evidence.subarray(1)],
    ['a COSE_Sign (tag 98)', Uint8Array.of(0xd8, 0x62, ...evidence.subarray(1))],
    ['another CWT tag', cbor.tag(61, evidence)],
    ['nothing', new Uint8Array(0)],
  ])('refuses the CWT tag around %s as bad-cose', (_what, inner) => {
    expect(verify(cbor.tag(61, inner), nonceA)).toMatchObject({ ok: false, code: 'bad-cose' });
  });

  it('is read from a file as bytes by attest verify (not mistaken for base64 text)', async () => {
    const file = path.join(await tempDir(), 'evidence.cwt');
    const tagged = cbor.tag(61, evidence);
    await writeFile(file, tagged);
    expect(await readSignedFile(file)).toEqual(tagged);
  });
});
