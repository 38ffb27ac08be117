/** scrypt password hashes in PHC format: the RFC 7914 vector, round trips, and hostile strings. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashPassword, isHashString, verifyPassword } from '../../../agent/console/password-hash.js';

// RFC 7914 §12: scrypt(P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64).
const RFC_7914_KEY =
  'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640';
const RFC_HASH = `$scrypt$ln=10,r=8,p=16$${Buffer.from('NaCl').toString('base64').replace(/=+$/, '')}$${Buffer.from(RFC_7914_KEY, 'hex').toString('base64').replace(/=+$/, '')}`;

describe('password hashes', () => {
  it('checks the RFC 7914 test vector written as a PHC string', async () => {
    expect(isHashString(RFC_HASH)).toBe(true);
    await expect(verifyPassword(RFC_HASH, 'password')).resolves.toBe(true);
    await expect(verifyPassword(RFC_HASH, 'passwore')).resolves.toBe(false);
  });

  it('hashes with a fresh salt each time and verifies its own hashes', async () => {
    const a = await hashPassword('simulator', { ln: 10, r: 8, p: 1 });
    const b = await hashPassword('simulator', { ln: 10, r: 8, p: 1 });
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    await expect(verifyPassword(a, 'simulator')).resolves.toBe(true);
    await expect(verifyPassword(a, 'Simulator')).resolves.toBe(false);
  });

  it.each([
    ['', 'empty'],
    ['simulator', 'a plain password'],
    ['$scrypt$ln=30,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA', 'a cost that would exhaust memory'],
    ['$scrypt$ln=14,r=8,p=1$c2FsdA$aGFzaA', 'a too-short key'],
    ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', 'another algorithm'],
  ])('refuses %j (%s) without throwing', async (hash) => {
    expect(isHashString(hash)).toBe(false);
    await expect(verifyPassword(hash, 'simulator')).resolves.toBe(false);
  });

  it('never throws on arbitrary strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), async (s) => {
        await expect(verifyPassword(`$scrypt$${s}`, 'x')).resolves.toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
