/**
 * Device signers for tests: a software Ed25519 one (as the software identity makes) and a software
 * P-256/ES256 one that signs exactly as the TPM identity does (`r || s`, SHA-256), without a TPM.
 */
import { p256 } from '@noble/curves/nist.js';
import { ALG_ES256, type DeviceSigner, deviceKidOf } from '../../agent/attest/device-key.js';
import { ed25519Signer } from '../../agent/attest/software-key.js';
import { generateKeyPair } from '../../agent/core/ed25519-keys.js';

export function ed25519TestSigner(): DeviceSigner & { readonly seed: Uint8Array } {
  const { privateKey } = generateKeyPair();
  return Object.assign(ed25519Signer(privateKey), { seed: privateKey });
}

export function p256TestSigner(): DeviceSigner & { readonly secretKey: Uint8Array } {
  const { secretKey } = p256.keygen();
  const publicKey = p256.getPublicKey(secretKey, false);
  return {
    alg: ALG_ES256,
    publicKey,
    kid: deviceKidOf(publicKey),
    secretKey,
    sign: async (message) => p256.sign(message, secretKey, { prehash: true, lowS: false }),
  };
}
