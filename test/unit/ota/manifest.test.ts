/**
 * Update manifest verification: the attack-table cases that belong to the manifest (each rejected with
 * its own code before any byte reaches a slot), the payload schema, and fast-check properties that
 * hostile payloads — even correctly signed ones — never throw.
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
  type KeyPair,
  kidOf,
  plainCbor,
  signCose,
} from '../../../agent/core/cose.js';
import { parsePrivateKeyPem } from '../../../agent/core/ed25519-keys.js';
import {
  decodeManifest,
  encodeManifest,
  type Manifest,
  signManifest,
  trustedNowMs,
  trustTimeAfterCommitMs,
  type VerifyContext,
} from '../../../agent/ota/manifest.js';
import { trustFromKeys } from '../../../agent/ota/trust.js';
import { concatBytes } from '../../support/concat-bytes.js';
import { cbor, headOf } from '../../support/hand-cbor.js';
import { toolPath } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';
import { verifyManifest } from '../../support/verify-manifest.js';

const tempDir = tempDirs('edge-agent-manifest-');

const NOW_MS = Date.UTC(2026, 5, 1);
const fleet = generateKeyPair();
const second = generateKeyPair();
const stranger = generateKeyPair();

function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    v: 1,
    component: 'rootfs',
    version: '1.4.0',
    seq: 14,
    hw: ['rpi4', 'rpi5'],
    size: 1000,
    sha256: new Uint8Array(createHash('sha256').update('image').digest()),
    format: 'raw',
    url: 'https://updates.example.com/rootfs-1.4.0.img',
    created: NOW_MS / 1000 - 3600,
    ...over,
  };
}

function ctx(over: Partial<VerifyContext> = {}): VerifyContext {
  return {
    trust: trustFromKeys([fleet.publicKey], 1),
    board: 'rpi4',
    component: 'rootfs',
    committedSeq: 13,
    nowMs: NOW_MS,
    slotSizeBytes: 4096,
    freeBytes: 8192,
    ...over,
  };
}

/** Rebuilds a COSE_Sign1 by hand with parts swapped: how a forger would edit one. */
function forge(bytes: Uint8Array, parts: { payload?: Uint8Array; kid?: Uint8Array }): Uint8Array {
  const d = decodeCose(bytes);
  if (!d.ok || d.value.kind !== 'sign1') throw new Error('forge needs a COSE_Sign1');
  const s = d.value.signatures[0]!;
  return cbor.tag(
    18,
    cbor.array([
      cbor.bstr(s.protectedBytes),
      cbor.map([[cbor.uint(4), cbor.bstr(parts.kid ?? s.kid)]]),
      cbor.bstr(parts.payload ?? d.value.payload),
      cbor.bstr(s.signature),
    ]),
  );
}

describe('verifyManifest', () => {
  it('accepts a manifest signed by the trust root and returns its fields and signer kids', () => {
    const m = manifest();
    const r = verifyManifest(signManifest(m, [fleet]), ctx());
    expect(r).toEqual({ ok: true, manifest: m, kids: [kidOf(fleet.publicKey)] });
  });

  it('accepts a threshold-signed COSE_Sign under a 2-of-3 root', () => {
    const trust = trustFromKeys([fleet.publicKey, second.publicKey, stranger.publicKey], 2);
    const r = verifyManifest(signManifest(manifest(), [fleet, second]), ctx({ trust }));
    expect(r).toMatchObject({ ok: true, kids: [kidOf(fleet.publicKey), kidOf(second.publicKey)] });
  });

  const signed = signManifest(manifest(), [fleet]);
  const attacks: [string, () => [Uint8Array, VerifyContext], string, RegExp][] = [
    [
      'a bad signature (payload edited after signing)',
      () => [forge(signed, { payload: encodeManifest(manifest({ seq: 99 })) }), ctx()],
      'bad-signature',
      /signature verification failed/,
    ],
    [
      'a signature by an unknown key',
      () => [signManifest(manifest(), [stranger]), ctx()],
      'unknown-key',
      /not in the trusted set/,
    ],
    [
      "an unknown key's signature wearing a trusted kid",
      () => [forge(signManifest(manifest(), [stranger]), { kid: kidOf(fleet.publicKey) }), ctx()],
      'bad-signature',
      /failed/,
    ],
    [
      'one signature where the root needs two',
      () => [signed, ctx({ trust: trustFromKeys([fleet.publicKey, second.publicKey], 2) })],
      'below-threshold',
      /1 of 2/,
    ],
    [
      'the same key signing twice where two keys are needed',
      () => [
        signManifest(manifest(), [fleet, fleet]),
        ctx({ trust: trustFromKeys([fleet.publicKey, second.publicKey], 2) }),
      ],
      'below-threshold',
      /1 of 2/,
    ],
    [
      'a replayed older seq',
      () => [signed, ctx({ committedSeq: 20 })],
      'replayed-seq',
      /seq 14 .* committed seq 20/,
    ],
    [
      'a replay of the committed seq itself',
      () => [signed, ctx({ committedSeq: 14 })],
      'replayed-seq',
      /seq 14/,
    ],
    [
      'an expired manifest, with a wall clock that is wrong (1970) but a later trusted time',
      () => [
        signManifest(manifest({ expires: NOW_MS / 1000 - 60 }), [fleet]),
        ctx({ nowMs: trustedNowMs(0, NOW_MS) }),
      ],
      'expired',
      /manifest expired at 2026-05-31T23:59:00/,
    ],
    [
      'a manifest under an expired trust root',
      () => [signed, ctx({ trust: trustFromKeys([fleet.publicKey], 1, { expires: NOW_MS / 1000 }) })],
      'expired',
      /trust root version 1 expired/,
    ],
    [
      'a manifest for other boards',
      () => [signed, ctx({ board: 'jetson-orin-nano' })],
      'wrong-hw',
      /rpi4, rpi5/,
    ],
    [
      'a manifest for another component',
      () => [signed, ctx({ component: 'agent' })],
      'wrong-component',
      /"rootfs", not "agent"/,
    ],
    [
      'a payload larger than the slot',
      () => [signed, ctx({ slotSizeBytes: 999 })],
      'too-large',
      /1000 bytes exceeds the slot's 999/,
    ],
    [
      'a payload larger than the free space',
      () => [signed, ctx({ freeBytes: 999 })],
      'no-space',
      /1000 bytes exceeds the 999 bytes free/,
    ],
    [
      'a signed payload that is not CBOR',
      () => [signCose(Uint8Array.of(0xff, 0x00), [fleet]), ctx()],
      'bad-payload',
      /malformed CBOR/,
    ],
    [
      'a COSE object that is not CBOR',
      () => [Uint8Array.of(0xd2, 0x84, 0x40), ctx()],
      'bad-cose',
      /truncated/,
    ],
  ];

  it.each(attacks)('rejects %s', (_name, make, code, reason) => {
    const [bytes, context] = make();
    expect(verifyManifest(bytes, context)).toEqual({
      ok: false,
      code,
      reason: expect.stringMatching(reason),
    });
  });

  it('judges expiry by the later of the wall clock and the last trusted time', () => {
    expect(trustedNowMs(0, NOW_MS)).toBe(NOW_MS);
    expect(trustedNowMs(NOW_MS + 1, NOW_MS)).toBe(NOW_MS + 1);
    // The wall clock alone (a Pi booting at 1970) would have let the expired manifest through.
    const expired = signManifest(manifest({ expires: NOW_MS / 1000 - 60 }), [fleet]);
    expect(verifyManifest(expired, ctx({ nowMs: 0 }))).toMatchObject({ ok: true });
  });

  it("moves the trusted time forward to a committed manifest's creation time, never back", () => {
    const m = manifest({ created: NOW_MS / 1000 });
    expect(trustTimeAfterCommitMs(m, 0)).toBe(NOW_MS);
    expect(trustTimeAfterCommitMs(m, NOW_MS + 5)).toBe(NOW_MS + 5);
    expect(trustTimeAfterCommitMs(manifest({ created: undefined }), 7)).toBe(7);
  });

  it('checks the signature before it parses the payload', () => {
    // Garbage signed by a stranger is an unknown key, not a payload error: unauthenticated bytes are not parsed.
    expect(verifyManifest(signCose(Uint8Array.of(0xff), [stranger]), ctx())).toMatchObject({
      code: 'unknown-key',
    });
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(verifyManifest(bytes, ctx()).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on correctly signed random payload bytes, and calls them bad-payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (payload) => {
        expect(verifyManifest(signCose(payload, [fleet]), ctx())).toMatchObject({
          ok: false,
          code: 'bad-payload',
        });
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on correctly signed arbitrary CBOR values', () => {
    fc.assert(
      fc.property(
        fc.anything({ withMap: true, withSet: false, withBigInt: true, withTypedArray: true }),
        (value) => {
          let payload: Uint8Array;
          try {
            payload = new Uint8Array(plainCbor.encode(value));
          } catch {
            return; // not every JS value has a CBOR encoding
          }
          expect(verifyManifest(signCose(payload, [fleet]), ctx())).toMatchObject({
            ok: false,
            code: 'bad-payload',
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on a correctly signed valid payload with bytes changed', () => {
    const payload = encodeManifest(manifest());
    fc.assert(
      fc.property(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const edited = new Uint8Array(payload);
        edited[at]! ^= xor;
        const r = verifyManifest(signCose(edited, [fleet]), ctx());
        // Some edits still make a valid manifest (another version text); none may throw or pass unparsed.
        if (r.ok) expect(encodeManifest(r.manifest).length).toBeGreaterThan(0);
        else expect(r.code).toMatch(/bad-payload|wrong-|replayed-seq|too-large|no-space|expired/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('manifest payload', () => {
  it('round-trips every field, sizes beyond 32 bits as CBOR uint64 rather than floats', () => {
    const m = manifest({
      size: 5 * 2 ** 30,
      expires: NOW_MS / 1000 + 86400,
      chunk: 2 ** 30,
      chunks: Array.from({ length: 5 }, (_, i) => new Uint8Array(32).fill(i)),
      format: 'tar',
    });
    const bytes = encodeManifest(m);
    expect(decodeManifest(bytes)).toEqual({ ok: true, manifest: m });
    const sizeField = concatBytes([cbor.tstr('size'), headOf(0, 5 * 2 ** 30)]);
    expect(Buffer.from(bytes).includes(Buffer.from(sizeField))).toBe(true);
    expect(bytes.includes(0xfb)).toBe(false);
  });

  it('encodes deterministically: keys sorted by length, then bytewise (RFC 8949 §4.2.1)', () => {
    const d = plainCbor.decode(encodeManifest(manifest())) as Map<string, unknown>;
    expect([...d.keys()]).toEqual([
      'v',
      'hw',
      'seq',
      'url',
      'size',
      'format',
      'sha256',
      'created',
      'version',
      'component',
    ]);
  });

  it('accepts a payload another encoder wrote in another key order', () => {
    const m = manifest({ url: undefined, created: undefined });
    delete m.url;
    delete m.created;
    const bytes = cbor.map([
      [cbor.tstr('v'), cbor.uint(1)],
      [cbor.tstr('component'), cbor.tstr('rootfs')],
      [cbor.tstr('version'), cbor.tstr('1.4.0')],
      [cbor.tstr('seq'), cbor.uint(14)],
      [cbor.tstr('hw'), cbor.array([cbor.tstr('rpi4'), cbor.tstr('rpi5')])],
      [cbor.tstr('size'), cbor.uint(1000)],
      [cbor.tstr('sha256'), cbor.bstr(m.sha256)],
      [cbor.tstr('format'), cbor.tstr('raw')],
    ]);
    expect(decodeManifest(bytes)).toEqual({ ok: true, manifest: m });
  });

  const base = (): [string, Uint8Array][] => [
    ['v', cbor.uint(1)],
    ['component', cbor.tstr('rootfs')],
    ['version', cbor.tstr('1.4.0')],
    ['seq', cbor.uint(14)],
    ['hw', cbor.array([cbor.tstr('rpi4')])],
    ['size', cbor.uint(1000)],
    ['sha256', cbor.bstr(new Uint8Array(32))],
    ['format', cbor.tstr('raw')],
  ];
  const edit = (changes: Record<string, Uint8Array | null>, extra: [Uint8Array, Uint8Array][] = []) => {
    const pairs = base()
      .filter(([k]) => changes[k] !== null)
      .map(([k, v]): [Uint8Array, Uint8Array] => [cbor.tstr(k), changes[k] ?? v]);
    for (const [k, v] of Object.entries(changes)) {
      if (v !== null && !base().some(([b]) => b === k)) pairs.push([cbor.tstr(k), v]);
    }
    return cbor.map([...pairs, ...extra]);
  };
  const f64 = (n: number) => {
    const b = new Uint8Array(9);
    b[0] = 0xfb;
    new DataView(b.buffer).setFloat64(1, n);
    return b;
  };

  const invalid: [string, Uint8Array, RegExp][] = [
    ['a missing seq', edit({ seq: null }), /missing field "seq"/],
    ['a text seq', edit({ seq: cbor.tstr('14') }), /"seq" must be an integer/],
    ['a float seq, even an integral one', edit({ seq: f64(14) }), /floating-point/],
    ['a negative seq', edit({ seq: cbor.nint(-1) }), /"seq" must be an integer >= 0/],
    ['a seq beyond 2^53', edit({ seq: headOf(0, 2 ** 53 + 2, 8) }), /"seq" must be an integer/],
    ['v 2', edit({ v: cbor.uint(2) }), /"v" must be one of 1/],
    ['a zero size', edit({ size: cbor.uint(0) }), /"size" must be an integer >= 1/],
    ['a 31-byte sha256', edit({ sha256: cbor.bstr(new Uint8Array(31)) }), /"sha256" must be a 32-byte/],
    ['an unknown format', edit({ format: cbor.tstr('zip') }), /"format" must be one of "raw", "tar"/],
    ['a component that is a path', edit({ component: cbor.tstr('../etc') }), /"component" has characters/],
    ['an empty hw list', edit({ hw: cbor.array([]) }), /"hw" must have 1\.\.64 entries/],
    ['a hw entry that is a number', edit({ hw: cbor.array([cbor.uint(4)]) }), /hw\[0\]/],
    ['a version with a newline', edit({ version: cbor.tstr('1.4\n') }), /"version" has characters/],
    ['an ftp url', edit({ url: cbor.tstr('ftp://x/y') }), /"url" has characters/],
    ['chunk without chunks', edit({ chunk: cbor.uint(512) }), /chunk and chunks come together/],
    [
      'the wrong number of chunk hashes',
      edit({ chunk: cbor.uint(512), chunks: cbor.array([cbor.bstr(new Uint8Array(32))]) }),
      /ceil\(size \/ chunk\) = 2/,
    ],
    ['an unknown field', edit({ 'min-version': cbor.tstr('1.0') }), /unknown field\(s\) "min-version"/],
    ['an integer key', edit({}, [[cbor.uint(7), cbor.uint(1)]]), /keys must be text/],
    ['a duplicated key', edit({}, [[cbor.tstr('seq'), cbor.uint(99)]]), /duplicate map key/],
    [
      'a duplicated key in a long-form head',
      edit({}, [[concatBytes([headOf(3, 3, 1), new TextEncoder().encode('seq')]), cbor.uint(99)]]),
      /duplicate map key/,
    ],
    ['a tagged value', edit({ created: cbor.tag(1, cbor.uint(0)) }), /unexpected tag 1/],
    ['an array, not a map', cbor.array([cbor.uint(1)]), /not a CBOR map/],
  ];

  it.each(invalid)('rejects %s', (_name, bytes, reason) => {
    expect(decodeManifest(bytes)).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    expect(verifyManifest(signCose(bytes, [fleet]), ctx())).toMatchObject({ ok: false, code: 'bad-payload' });
  });

  it('accepts the base of the invalid table', () => {
    expect(decodeManifest(edit({}))).toMatchObject({ ok: true });
  });

  it('throws TypeError when our own code hands encodeManifest a malformed manifest', () => {
    expect(() => encodeManifest(manifest({ sha256: new Uint8Array(3) }))).toThrow(/sha256 must be 32 bytes/);
    expect(() => encodeManifest(manifest({ seq: -1 }))).toThrow(TypeError);
    expect(() => signManifest(manifest(), [new Uint8Array(5)])).toThrow(/keys\[0\]/);
  });
});

describe('a manifest from an independent implementation', () => {
  it('verifies when the payload and COSE framing are written by hand and signed by openssl', async () => {
    const dir = await tempDir();
    const keyFile = path.join(dir, 'fleet.pem');
    execFileSync(toolPath('openssl'), ['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
    const parsed = parsePrivateKeyPem(await readFile(keyFile, 'utf8'));
    if (!parsed.ok) throw new Error(parsed.reason);
    const key: KeyPair = parsed.value;
    const sha = new Uint8Array(32).fill(7);
    const payload = cbor.map([
      [cbor.tstr('v'), cbor.uint(1)],
      [cbor.tstr('component'), cbor.tstr('rootfs')],
      [cbor.tstr('version'), cbor.tstr('2.0.0')],
      [cbor.tstr('seq'), cbor.uint(15)],
      [cbor.tstr('hw'), cbor.array([cbor.tstr('rpi4')])],
      [cbor.tstr('size'), cbor.uint(2048)],
      [cbor.tstr('sha256'), cbor.bstr(sha)],
      [cbor.tstr('format'), cbor.tstr('raw')],
    ]);
    const prot = Uint8Array.of(0xa1, 0x01, 0x27);
    const tbs = cbor.array([
      cbor.tstr('Signature1'),
      cbor.bstr(prot),
      cbor.bstr(new Uint8Array(0)),
      cbor.bstr(payload),
    ]);
    await writeFile(path.join(dir, 'tbs'), tbs);
    const sig = execFileSync(toolPath('openssl'), [
      'pkeyutl',
      '-sign',
      '-rawin',
      '-inkey',
      keyFile,
      '-in',
      path.join(dir, 'tbs'),
    ]);
    const cose = cbor.tag(
      18,
      cbor.array([
        cbor.bstr(prot),
        cbor.map([[cbor.uint(4), cbor.bstr(kidOf(key.publicKey))]]),
        cbor.bstr(payload),
        cbor.bstr(new Uint8Array(sig)),
      ]),
    );
    const r = verifyManifest(cose, ctx({ trust: trustFromKeys([key.publicKey], 1) }));
    expect(r).toMatchObject({ ok: true, manifest: { version: '2.0.0', seq: 15, size: 2048, sha256: sha } });
  });
});
