/**
 * The software identity: an Ed25519 key pair in a PKCS#8 PEM file (as `openssl genpkey -algorithm
 * ed25519` writes it) under the state directory, mode 0600 in a 0700 directory. Made on first use;
 * afterwards only read. A key file that group or others can read is refused rather than silently
 * fixed: someone changed it, and a key that may have been copied is not an identity to keep using.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, readIfExists, writeDurable } from '../core/durable-file.js';
import { ed25519KeyObject, ed25519PublicKey, ed25519Sign } from '../core/ed25519.js';
import { generateKeyPair, parsePrivateKeyPem, privateKeyToPem } from '../core/ed25519-keys.js';
import { ALG_EDDSA, type DeviceSigner, deviceKidOf } from './device-key.js';
import { IdentityError } from './errors.js';

export interface SoftwareKey {
  readonly signer: DeviceSigner;
  /** The key was made by this call. */
  readonly created: boolean;
}

/** Reads the key at `keyFile`, or makes one there if `create` and none exists. */
export async function loadSoftwareKey(keyFile: string, options: { create: boolean }): Promise<SoftwareKey> {
  let text = await readIfExists(keyFile);
  let created = false;
  if (text === undefined) {
    if (!options.create) throw new IdentityError('ENOIDENTITY', `${keyFile}: no device key yet`);
    await ensurePrivateDir(path.dirname(keyFile));
    try {
      await writeDurable(keyFile, privateKeyToPem(generateKeyPair()), { mode: 0o600, exclusive: true });
      created = true;
    } catch (e) {
      // Another process made it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    text = await readIfExists(keyFile);
    if (text === undefined) throw new IdentityError('ENOIDENTITY', `${keyFile}: vanished after creation`);
  }
  const mode = (await stat(keyFile)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new IdentityError(
      'EKEY_PERMS',
      `${keyFile}: permissions ${mode.toString(8).padStart(4, '0')} are too open (group or others can read the device key); it must be 0600`,
    );
  }
  const parsed = parsePrivateKeyPem(new Uint8Array(text));
  if (!parsed.ok) throw new IdentityError('EKEY_INVALID', `${keyFile}: ${parsed.reason}`);
  return { signer: ed25519Signer(parsed.value.privateKey), created };
}

/** A `DeviceSigner` over an Ed25519 seed held in memory. */
export function ed25519Signer(seed: Uint8Array): DeviceSigner {
  const key = ed25519KeyObject(seed);
  const publicKey = ed25519PublicKey(key);
  return {
    alg: ALG_EDDSA,
    publicKey,
    kid: deviceKidOf(publicKey),
    sign: async (message) => ed25519Sign(message, key),
  };
}
