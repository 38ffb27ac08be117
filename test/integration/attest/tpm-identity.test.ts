/**
 * The TPM-backed identity against a real software TPM (swtpm, driven by tpm2-tools): keys made inside
 * the TPM at first start and found there again, ES256 signatures, measurements extended into the PCR,
 * and evidence whose quote verifies here and with `tpm2_checkquote` — and stops verifying when the PCR
 * no longer matches the measurements claimed.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { p256 } from '@noble/curves/nist.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signDeviceCose1, verifyDeviceCose1 } from '../../../agent/attest/device-cose.js';
import { base32, devicePublicKeyToPem } from '../../../agent/attest/device-key.js';
import { isIdentityError } from '../../../agent/attest/errors.js';
import { Attester } from '../../../agent/attest/evidence.js';
import { type Identity, type IdentitySettings, loadIdentity } from '../../../agent/attest/identity.js';
import { measureTree, measureValue } from '../../../agent/attest/measure.js';
import { parseReference, verifyEvidence } from '../../../agent/attest/verify-evidence.js';
import { silentLogger } from '../../../agent/core/log.js';
import { FakeClock } from '../../support/fake-clock.js';
import { rejection } from '../../support/rejection.js';
import { hasSwtpm, Swtpm } from '../../support/swtpm.js';
import { describeWithTools, toolPath } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const run = promisify(execFile);
const tempDir = tempDirs('edge-agent-tpm-');
const clock = new FakeClock();
const nonce = Uint8Array.from(Buffer.from('a1a2a3a4a5a6a7a8b1b2b3b4b5b6b7b8', 'hex'));
let tpm: Swtpm;
const opened: Identity[] = [];

beforeAll(async () => {
  if (hasSwtpm) tpm = await Swtpm.start();
});
afterAll(async () => {
  await Promise.all(opened.map((i) => i.close()));
  await tpm?.stop();
});

function settings(dir: string, extra: Partial<IdentitySettings> = {}): IdentitySettings {
  return {
    backend: 'tpm',
    dir,
    tpm: { tcti: tpm.tcti, keyHandle: 0x81010020, akHandle: 0x81010021, pcr: 23, timeoutMs: 10_000 },
    ...extra,
  };
}

async function identity(dir: string, create = true): Promise<Identity> {
  const id = await loadIdentity(settings(dir), { clock }, { create });
  opened.push(id);
  return id;
}

async function attester(id: Identity, bundle: string): Promise<Attester> {
  return new Attester(
    {
      identity: id,
      clock,
      log: silentLogger(),
      sources: [
        { name: 'agent', measure: () => measureTree(bundle) },
        { name: 'config', measure: async () => measureValue({ link: { url: 'mqtt://x' } }) },
      ],
      bootClaims: async () => ({ bootCount: 1, bootSeed: new Uint8Array(16) }),
      uptimeS: () => 42,
    },
    { swName: 'edge-agent', swVersion: '0.3.1' },
  );
}

async function bundle(content: string): Promise<string> {
  const dir = path.join(await tempDir(), 'bundle');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'main.js'), content);
  return dir;
}

describeWithTools(['swtpm', 'tpm2_startup'], 'TPM identity (swtpm)', () => {
  it('makes a P-256 key inside the TPM at first start and finds the same key at the next', async () => {
    const dir = path.join(await tempDir(), 'identity');
    const first = await identity(dir);
    expect(first).toMatchObject({ backend: 'tpm', created: true });
    expect(first.signer.alg).toBe(-7);
    expect(first.signer.publicKey).toHaveLength(65);
    expect(first.deviceId).toBe(base32(first.signer.kid));
    const binding = JSON.parse(await readFile(path.join(dir, 'identity.json'), 'utf8'));
    expect(binding).toMatchObject({ backend: 'tpm', alg: 'ES256', deviceId: first.deviceId });
    const again = await identity(dir);
    expect(again.created).toBe(false);
    expect(again.signer.publicKey).toEqual(first.signer.publicKey);
    const { stdout } = await run('tpm2_getcap', ['handles-persistent'], {
      env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
    });
    expect(stdout).toMatch(/0x81010020[\s\S]*0x81010021/);
  });

  it('signs ES256 COSE inside the TPM, verifiable with the public key alone (and by OpenSSL)', async () => {
    const id = await identity(path.join(await tempDir(), 'identity'));
    const payload = new TextEncoder().encode('telemetry batch');
    const bytes = await signDeviceCose1(payload, id.signer);
    expect(verifyDeviceCose1(bytes, id.signer.publicKey)).toMatchObject({ ok: true, alg: -7, payload });
    const dir = await tempDir();
    await writeFile(path.join(dir, 'pub.pem'), devicePublicKeyToPem(id.signer.publicKey));
    await writeFile(path.join(dir, 'msg'), new TextEncoder().encode('x'));
    const sig = await id.signer.sign(new TextEncoder().encode('x'));
    await writeFile(path.join(dir, 'sig'), p256.Signature.fromBytes(sig).toBytes('der'));
    const { stdout } = await run(toolPath('openssl'), [
      'dgst',
      '-sha256',
      '-verify',
      path.join(dir, 'pub.pem'),
      '-signature',
      path.join(dir, 'sig'),
      path.join(dir, 'msg'),
    ]);
    expect(stdout.trim()).toBe('Verified OK');
  });

  it('produces evidence whose quote over the measurement PCR verifies, here and with tpm2_checkquote', async () => {
    const id = await identity(path.join(await tempDir(), 'identity'));
    const a = await attester(id, await bundle('v1'));
    const evidence = await a.evidence(nonce);
    const verdict = verifyEvidence(evidence, { publicKey: id.signer.publicKey, nonce });
    expect(verdict).toMatchObject({ ok: true, alg: -7, tpmQuote: true });
    if (!verdict.ok) return;
    const q = verdict.claims.tpmQuote!;
    expect(q.pcr).toBe(23);

    // The same quote through tpm2-tools' own checker.
    const dir = await tempDir();
    await writeFile(path.join(dir, 'ak.pub.pem'), devicePublicKeyToPem(q.ak));
    await writeFile(path.join(dir, 'quote.msg'), q.attest);
    await writeFile(path.join(dir, 'quote.sig'), p256.Signature.fromBytes(q.signature).toBytes('der'));
    await writeFile(path.join(dir, 'pcrs.bin'), q.value);
    const { stdout: pcr } = await run('tpm2_pcrread', ['sha256:23'], {
      env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
    });
    expect(pcr.toLowerCase()).toContain(Buffer.from(q.value).toString('hex'));
    const check = await run('tpm2_checkquote', [
      ...['-u', path.join(dir, 'ak.pub.pem'), '-m', path.join(dir, 'quote.msg')],
      ...[
        '-s',
        path.join(dir, 'quote.sig'),
        '-F',
        'plain',
        '-g',
        'sha256',
        '-q',
        Buffer.from(nonce).toString('hex'),
      ],
    ]);
    expect(check.stdout).toMatch(/pcrs|sig/);
  });

  it('shows an update as a changed measurement that the PCR confirms', async () => {
    const id = await identity(path.join(await tempDir(), 'identity'));
    const dir = await bundle('v1');
    const before = verifyEvidence(await (await attester(id, dir)).evidence(nonce), {
      publicKey: id.signer.publicKey,
      nonce,
    });
    if (!before.ok) throw new Error(before.reason);
    const ref = parseReference(
      `measurements:\n  agent: ${Buffer.from(before.claims.measurements[0]!.digest).toString('hex')}\ntpm: true\n`,
    );
    if (!ref.ok) throw new Error(ref.reason);
    await writeFile(path.join(dir, 'main.js'), 'v2');
    const after = await attester(id, dir);
    const verdict = verifyEvidence(await after.evidence(nonce), {
      publicKey: id.signer.publicKey,
      nonce,
      reference: ref.reference,
    });
    expect(verdict).toMatchObject({
      ok: false,
      code: 'differs',
      differences: [{ claim: 'measurements.agent' }],
    });
  });

  it("catches measurements that the PCR does not back (the PCR extended behind the agent's back)", async () => {
    const id = await identity(path.join(await tempDir(), 'identity'));
    const a = await attester(id, await bundle('v1'));
    await a.measurements();
    await run('tpm2_pcrextend', [`23:sha256=${'ab'.repeat(32)}`], {
      env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti },
    });
    const verdict = verifyEvidence(await a.evidence(nonce), { publicKey: id.signer.publicKey, nonce });
    expect(verdict).toMatchObject({
      ok: false,
      code: 'bad-quote',
      reason: expect.stringMatching(/extend chain/),
    });
  });

  it('refuses to switch an existing software identity to the TPM (EBINDING)', async () => {
    const dir = path.join(await tempDir(), 'identity');
    opened.push(await loadIdentity({ backend: 'software', dir }, { clock }, { create: true }));
    const e = await rejection(loadIdentity(settings(dir), { clock }, { create: true }));
    expect(isIdentityError(e) && e.code).toBe('EBINDING');
    expect(String(e)).toMatch(/software-backed.*asks for tpm/);
  });
});
