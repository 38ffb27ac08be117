/**
 * Errors of the identity and attestation layer, each with a stable `code`:
 *  - `EKEY_PERMS`: the private key file is readable by others than its owner (refused, as ssh does).
 *  - `EKEY_INVALID`: the key file is not an Ed25519 PKCS#8 key.
 *  - `EBINDING`: the identity on disk does not match the configuration (another key, backend or serial).
 *  - `ETPM`: a tpm2-tools command failed or the TPM holds something unexpected at a handle.
 *  - `ENOIDENTITY`: no identity exists yet where one was only to be read.
 */
import { AgentError } from '../core/errors.js';

export type IdentityErrorCode = 'EKEY_PERMS' | 'EKEY_INVALID' | 'EBINDING' | 'ETPM' | 'ENOIDENTITY';

export class IdentityError extends AgentError {
  declare readonly code: IdentityErrorCode;
  constructor(code: IdentityErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

export function isIdentityError(e: unknown): e is IdentityError {
  return e instanceof IdentityError;
}
