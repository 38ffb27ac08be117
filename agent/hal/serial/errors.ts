/**
 * Errors of the serial bus (codes documented in types.ts). They carry the port path so a log line needs
 * no message parsing; the Linux backend keeps the library's error as `cause`.
 */
import { AgentError } from '../../core/errors.js';

export type SerialErrorCode = 'ENOENT' | 'EACCES' | 'EBUSY' | 'ECLOSED' | 'EDISCONNECTED' | 'EIO';

export class SerialError extends AgentError {
  override readonly code: SerialErrorCode;
  readonly path: string;

  constructor(code: SerialErrorCode, path: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.code = code;
    this.path = path;
  }
}

export function isSerialError(e: unknown, code?: SerialErrorCode): e is SerialError {
  return e instanceof SerialError && (code === undefined || e.code === code);
}
