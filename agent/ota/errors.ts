/**
 * Errors of the OTA layer that cross module boundaries as exceptions. Verification of untrusted objects
 * never throws (it returns a result with a `code`); these are for local state that is unusable, such as
 * a trust root file that does not verify, so callers can branch on `code` and keep the `cause`.
 */
import { AgentError } from '../core/errors.js';

export type TrustErrorCode = 'ETRUST_READ' | 'ETRUST_INVALID';

/** The local trust root cannot be read or does not verify against itself. */
export class TrustError extends AgentError {
  readonly file: string | undefined;
  constructor(code: TrustErrorCode, file: string | undefined, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.file = file;
  }
}

export function isTrustError(e: unknown): e is TrustError {
  return e instanceof TrustError;
}
