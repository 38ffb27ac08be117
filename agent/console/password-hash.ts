/**
 * Technician passwords as scrypt hashes (RFC 7914) in the PHC string format
 * (`$scrypt$ln=14,r=8,p=1$<salt>$<hash>`, salt and hash in unpadded base64), so the configuration holds
 * no password and a hash can be checked by other tools that read PHC strings. Cost ln=14 (N = 16384,
 * 16 MiB) takes ~50 ms on a laptop and ~0.2 s on a Raspberry Pi 4: slow for guessing, fine for a login.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { ln: 14, r: 8, p: 1 };
const KEY_BYTES = 32;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Hashes a password with a fresh 16-byte salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (typeof password !== 'string' || password === '')
    throw new TypeError('password must be a non-empty string');
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/** Whether `password` matches `hash`; a malformed hash never matches (and never throws). */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  const m = PHC.exec(hash);
  if (!m) return false;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (!isHashString(hash)) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await derive(password, Buffer.from(m[4]!, 'base64'), params, expected.length);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** The cost parameters of a hash this module can check; undefined for anything else. */
export function scryptParamsOf(hash: string): ScryptParams | undefined {
  const m = PHC.exec(hash);
  if (!m || !isHashString(hash)) return undefined;
  return { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
}

/** Whether a string is a scrypt PHC hash this module can check (for config validation). */
export function isHashString(hash: string): boolean {
  const m = PHC.exec(hash);
  if (!m) return false;
  const ln = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  const keyBytes = Buffer.from(m[5]!, 'base64').length;
  return ln >= 10 && ln <= 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16 && keyBytes >= 16 && keyBytes <= 64;
}

function derive(password: string, salt: Buffer, params: ScryptParams, keyBytes = KEY_BYTES): Promise<Buffer> {
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      keyBytes,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r * params.p },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
