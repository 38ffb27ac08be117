/**
 * Attestation evidence from a software identity and its verification on the fleet side: good evidence,
 * a wrong nonce, a measurement that changed after an update, a key mismatch, and reference values that
 * name the claim that differs. The claims set is checked against RFC 9711's registered claim keys.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Decoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { signDeviceCose1, verifyDeviceCose1 } from '../../../agent/attest/device-cose.js';
import { EAT_PROFILE } from '../../../agent/attest/eat.js';
import { Attester, type MeasurementSource } from '../../../agent/attest/evidence.js';
import { measureFile, measureTree, measureValue } from '../../../agent/attest/measure.js';
import { parseReference, verifyEvidence } from '../../../agent/attest/verify-evidence.js';
import { silentLogger } from '../../../agent/core/log.js';
import { ed25519TestSigner, p256TestSigner } from '../../support/device-signers.js';
import { FakeClock } from '../../support/fake-clock.js';
import { rejection } from '../../support/rejection.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-evidence-');
const nonce = Uint8Array.from(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

async function bundleDir(version: string): Promise<string> {
  const dir = path.join(await tempDir(), 'bundle');
  await mkdir(path.join(dir, 'dist'), { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'edge-agent', version }));
  await writeFile(path.join(dir, 'dist/main.js'), `console.log(${JSON.stringify(version)})\n`);
  return dir;
}

async function attester(opts: {
  bundle: string;
  signer?: ReturnType<typeof ed25519TestSigner>;
  rolledBack?: boolean;
  version?: string;
}): Promise<Attester> {
  const board = path.join(path.dirname(opts.bundle), 'board.yaml');
  await writeFile(board, 'id: sim\nbackend: sim\n');
  const sources: MeasurementSource[] = [
    { name: 'agent', measure: () => measureTree(opts.bundle) },
    { name: 'config', measure: async () => measureValue({ log: { level: 'info' } }) },
    { name: 'board', measure: () => measureFile(board) },
  ];
  return new Attester(
    {
      identity: { deviceId: 'gw-0042', signer: opts.signer ?? ed25519TestSigner(), tpm: undefined },
      clock: new FakeClock(),
      log: silentLogger(),
      sources,
      bootClaims: async () => ({ bootCount: 7, bootSeed: new Uint8Array(16).fill(0xb0) }),
      uptimeS: () => 3600.7,
      lastUpdateRolledBack: async () => opts.rolledBack ?? false,
    },
    { swName: 'edge-agent', swVersion: opts.version ?? '0.3.1' },
  );
}

describe('attestation evidence', () => {
  it('is a COSE_Sign1 over an EAT claims set with the RFC 9711 claim keys', async () => {
    const signer = ed25519TestSigner();
    const a = await attester({ bundle: await bundleDir('0.3.1'), signer });
    const evidence = await a.evidence(nonce);
    const cose = verifyDeviceCose1(evidence, signer.publicKey);
    if (!cose.ok) throw new Error(cose.reason);
    const claims = decoder.decode(cose.payload) as Map<number, unknown>;
    expect([...claims.keys()]).toEqual([2, 6, 10, 256, 261, 265, 267, 268, 270, 271, 273, -70001]);
    expect(claims.get(10)).toEqual(nonce); // eat_nonce
    expect((claims.get(256) as Uint8Array)[0]).toBe(0x01); // ueid type RAND
    expect(claims.get(256)).toHaveLength(33);
    expect(claims.get(261)).toBe(3600); // uptime, whole seconds
    expect(claims.get(265)).toBe(EAT_PROFILE);
    expect(claims.get(267)).toBe(7); // bootcount
    expect(claims.get(270)).toBe('edge-agent'); // swname
    expect(claims.get(271)).toEqual(['0.3.1', 16384]); // swversion, semver scheme
    const measurements = claims.get(273) as [number, Uint8Array][];
    // RFC 9711 §4.2.16: measurements-format = [content-type: coap-content-format, content-format: bytes]
    for (const entry of measurements) {
      expect(entry).toHaveLength(2);
      expect(Number.isInteger(entry[0]) && entry[0] >= 0 && entry[0] <= 0xffff).toBe(true);
      expect(entry[1]).toBeInstanceOf(Uint8Array);
    }
    expect(measurements.map(([cf]) => cf)).toEqual([60, 60, 60]); // a profile choice (wire-formats.md)
    const first = decoder.decode(measurements[0]![1]) as Map<string, unknown>;
    expect(first.get('name')).toBe('agent');
    expect((first.get('digest') as unknown[])[0]).toBe(-16);
  });

  it('verifies with the device key and the nonce it was asked for', async () => {
    const signer = ed25519TestSigner();
    const a = await attester({ bundle: await bundleDir('0.3.1'), signer });
    const verdict = verifyEvidence(await a.evidence(nonce), { publicKey: signer.publicKey, nonce });
    expect(verdict).toMatchObject({
      ok: true,
      tpmQuote: false,
      claims: { deviceId: 'gw-0042', swVersion: '0.3.1', bootCount: 7, rolledBack: false },
    });
  });

  it('verifies ES256 evidence (a TPM-style P-256 identity) the same way', async () => {
    const signer = p256TestSigner();
    const a = await attester({ bundle: await bundleDir('0.3.1'), signer: signer as never });
    expect(verifyEvidence(await a.evidence(nonce), { publicKey: signer.publicKey, nonce })).toMatchObject({
      ok: true,
      alg: -7,
    });
  });

  it('is refused for another nonce: stale or replayed evidence (wrong-nonce)', async () => {
    const signer = ed25519TestSigner();
    const a = await attester({ bundle: await bundleDir('0.3.1'), signer });
    const other = Uint8Array.from(Buffer.from('ffeeddccbbaa99887766554433221100', 'hex'));
    expect(
      verifyEvidence(await a.evidence(nonce), { publicKey: signer.publicKey, nonce: other }),
    ).toMatchObject({
      ok: false,
      code: 'wrong-nonce',
    });
  });

  it('is refused under another device key (key-mismatch), including a forged ueid', async () => {
    const signer = ed25519TestSigner();
    const a = await attester({ bundle: await bundleDir('0.3.1'), signer });
    const evidence = await a.evidence(nonce);
    expect(verifyEvidence(evidence, { publicKey: ed25519TestSigner().publicKey, nonce })).toMatchObject({
      ok: false,
      code: 'key-mismatch',
    });
    // The same claims re-signed by another key: signature fine, but the ueid names the first key.
    const thief = ed25519TestSigner();
    const payload = verifyDeviceCose1(evidence, signer.publicKey);
    if (!payload.ok) throw new Error(payload.reason);
    const resigned = await signDeviceCose1(payload.payload, thief);
    expect(verifyEvidence(resigned, { publicKey: thief.publicKey, nonce })).toMatchObject({
      ok: false,
      code: 'key-mismatch',
      reason: expect.stringMatching(/ueid/),
    });
  });

  it('shows a changed measurement after an update, naming the claim that differs', async () => {
    const signer = ed25519TestSigner();
    const bundle = await bundleDir('0.3.1');
    const before = await attester({ bundle, signer });
    const good = verifyEvidence(await before.evidence(nonce), { publicKey: signer.publicKey, nonce });
    if (!good.ok) throw new Error(good.reason);
    const ref = parseReference(
      [
        'deviceId: gw-0042',
        'swname: edge-agent',
        'swversion: 0.3.1',
        'rolledBack: false',
        'measurements:',
        ...good.claims.measurements.map((m) => `  ${m.name}: ${Buffer.from(m.digest).toString('hex')}`),
      ].join('\n'),
    );
    if (!ref.ok) throw new Error(ref.reason);
    expect(
      verifyEvidence(await before.evidence(nonce), {
        publicKey: signer.publicKey,
        nonce,
        reference: ref.reference,
      }),
    ).toMatchObject({ ok: true });

    // The update rewrote one file of the bundle; the agent restarts and measures again.
    await writeFile(path.join(bundle, 'dist/main.js'), 'console.log("0.3.2")\n');
    const after = await attester({ bundle, signer, version: '0.3.2' });
    const verdict = verifyEvidence(await after.evidence(nonce), {
      publicKey: signer.publicKey,
      nonce,
      reference: ref.reference,
    });
    expect(verdict).toMatchObject({
      ok: false,
      code: 'differs',
      differences: [
        { claim: 'swversion', expected: '0.3.1', actual: '0.3.2' },
        { claim: 'measurements.agent', expected: ref.reference.measurements!.agent },
      ],
    });
    expect(verdict.ok ? '' : verdict.reason).toMatch(/measurements\.agent differs/);
  });

  it('reports a rollback of the last update, which reference values can refuse', async () => {
    const signer = ed25519TestSigner();
    const a = await attester({ bundle: await bundleDir('0.3.1'), signer, rolledBack: true });
    const ref = parseReference('rolledBack: false\n');
    if (!ref.ok) throw new Error(ref.reason);
    expect(
      verifyEvidence(await a.evidence(nonce), {
        publicKey: signer.publicKey,
        nonce,
        reference: ref.reference,
      }),
    ).toMatchObject({ ok: false, differences: [{ claim: 'rolledBack', expected: 'false', actual: 'true' }] });
  });

  it('requires a TPM quote when the reference says tpm: true', async () => {
    const signer = ed25519TestSigner();
    const a = await attester({ bundle: await bundleDir('0.3.1'), signer });
    const ref = parseReference('tpm: true\n');
    if (!ref.ok) throw new Error(ref.reason);
    expect(
      verifyEvidence(await a.evidence(nonce), {
        publicKey: signer.publicKey,
        nonce,
        reference: ref.reference,
      }),
    ).toMatchObject({ ok: false, differences: [{ claim: 'tpm' }] });
  });

  it('refuses reference values with unknown fields or malformed digests, naming them', () => {
    expect(parseReference('swversoin: 1\n')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/swversoin/),
    });
    expect(parseReference('measurements: { agent: abc }\n')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/measurements\.agent: expected a SHA-256/),
    });
  });

  it('reads reference values as text, so an all-digit digest or a version like 1.10 keeps its meaning', () => {
    const digits = '0123456789'.repeat(7).slice(0, 64);
    expect(parseReference(`swversion: 1.10\nmeasurements:\n  agent: ${digits}\nrolledBack: false\n`)).toEqual(
      {
        ok: true,
        reference: { swversion: '1.10', measurements: { agent: digits }, rolledBack: false },
      },
    );
  });

  it('fails every evidence request with the reason when a measurement cannot be taken', async () => {
    const a = new Attester(
      {
        identity: { deviceId: 'gw', signer: ed25519TestSigner(), tpm: undefined },
        clock: new FakeClock(),
        log: silentLogger(),
        sources: [{ name: 'rootfs', measure: () => measureFile('/nonexistent/slot.img') }],
        bootClaims: async () => ({ bootCount: 1, bootSeed: new Uint8Array(16) }),
        uptimeS: () => 1,
      },
      { swName: 'edge-agent', swVersion: '0.3.1' },
    );
    expect(String(await rejection(a.evidence(nonce)))).toMatch(/cannot measure rootfs: ENOENT/);
  });

  it('treats a nonce outside 8..64 bytes as misuse (RFC 9711 §4.1)', async () => {
    const a = await attester({ bundle: await bundleDir('0.3.1') });
    await expect(a.evidence(new Uint8Array(7))).rejects.toThrow(TypeError);
    await expect(a.evidence(new Uint8Array(65))).rejects.toThrow(TypeError);
  });
});
