/**
 * The software identity on disk: made on first start (key 0600 in a 0700 directory, OpenSSL-readable
 * PKCS#8), stable across starts, the device id derived from the key or a configured serial bound to it,
 * and refusals when the files say something else than the configuration.
 */
import { execFileSync } from 'node:child_process';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { base32, parseDevicePublicKey } from '../../../agent/attest/device-key.js';
import { isIdentityError } from '../../../agent/attest/errors.js';
import { type IdentitySettings, loadIdentity } from '../../../agent/attest/identity.js';
import { FakeClock } from '../../support/fake-clock.js';
import { rejection } from '../../support/rejection.js';
import { toolPath } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-identity-');
const clock = new FakeClock();

async function settings(extra: Partial<IdentitySettings> = {}): Promise<IdentitySettings> {
  return { backend: 'software', dir: path.join(await tempDir(), 'identity'), ...extra };
}

describe('software identity', () => {
  it('is made on first start: a 0600 Ed25519 key in a 0700 directory, and an id from its kid', async () => {
    const s = await settings();
    const id = await loadIdentity(s, { clock }, { create: true });
    expect(id.created).toBe(true);
    expect((await stat(s.dir)).mode & 0o777).toBe(0o700);
    const keyFile = path.join(s.dir, 'device.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(id.signer.alg).toBe(-8);
    expect(id.deviceId).toBe(base32(id.signer.kid));
    expect(id.deviceId).toMatch(/^[a-z2-7]{13}$/);
    // OpenSSL reads the key and derives the same public key the identity shows.
    const pub = execFileSync(toolPath('openssl'), ['pkey', '-in', keyFile, '-pubout']).toString();
    expect(pub).toBe(id.publicKeyPem());
    const parsed = parseDevicePublicKey(pub);
    expect(parsed.ok && Buffer.from(parsed.publicKey).equals(Buffer.from(id.signer.publicKey))).toBe(true);
    const binding = JSON.parse(await readFile(path.join(s.dir, 'identity.json'), 'utf8'));
    expect(binding).toMatchObject({ v: 1, backend: 'software', alg: 'EdDSA', deviceId: id.deviceId });
  });

  it('is the same identity on every later start', async () => {
    const s = await settings();
    const first = await loadIdentity(s, { clock }, { create: true });
    const again = await loadIdentity(s, { clock }, { create: true });
    expect(again.created).toBe(false);
    expect(again.deviceId).toBe(first.deviceId);
    expect(again.signer.publicKey).toEqual(first.signer.publicKey);
  });

  it('binds a configured serial at first start and keeps it even when the configuration drops it', async () => {
    const s = await settings({ serial: 'GW-0042' });
    const first = await loadIdentity(s, { clock }, { create: true });
    expect(first.deviceId).toBe('GW-0042');
    const { serial: _drop, ...withoutSerial } = s;
    expect((await loadIdentity(withoutSerial, { clock }, { create: true })).deviceId).toBe('GW-0042');
  });

  it('refuses a different serial than the one bound (EBINDING), rather than becoming another device', async () => {
    const s = await settings({ serial: 'GW-0042' });
    await loadIdentity(s, { clock }, { create: true });
    const e = await rejection(loadIdentity({ ...s, serial: 'GW-0043' }, { clock }, { create: true }));
    expect(isIdentityError(e) && e.code).toBe('EBINDING');
    expect(String(e)).toMatch(/bound to the id GW-0042.*GW-0043/);
  });

  it('refuses a device key that is not the one bound (EBINDING)', async () => {
    const s = await settings();
    await loadIdentity(s, { clock }, { create: true });
    const other = await settings();
    await loadIdentity(other, { clock }, { create: true });
    await writeFile(path.join(s.dir, 'device.key'), await readFile(path.join(other.dir, 'device.key')), {
      mode: 0o600,
    });
    const replaced = await rejection(loadIdentity(s, { clock }, { create: true }));
    expect(isIdentityError(replaced) && replaced.code).toBe('EBINDING');
  });

  it('refuses a key file that group or others can read (EKEY_PERMS)', async () => {
    const s = await settings();
    await loadIdentity(s, { clock }, { create: true });
    await chmod(path.join(s.dir, 'device.key'), 0o640);
    const e = await rejection(loadIdentity(s, { clock }, { create: true }));
    expect(isIdentityError(e) && e.code).toBe('EKEY_PERMS');
    expect(String(e)).toMatch(/0640 are too open/);
  });

  it('only reads when not asked to create: no identity yet is ENOIDENTITY', async () => {
    const e = await rejection(loadIdentity(await settings(), { clock }, { create: false }));
    expect(isIdentityError(e) && e.code).toBe('ENOIDENTITY');
  });

  it('makes one identity when two processes start at the same moment', async () => {
    const s = await settings();
    const [a, b] = await Promise.all([
      loadIdentity(s, { clock }, { create: true }),
      loadIdentity(s, { clock }, { create: true }),
    ]);
    expect(a.deviceId).toBe(b.deviceId);
    expect(a.signer.publicKey).toEqual(b.signer.publicKey);
  });
});
