/**
 * Errors of the install path (boot environments, slots, downloads, the installer). Each carries a
 * stable `code` for callers and a short `reason` that goes into the report the fleet reads
 * (`digest-mismatch`, `http-404`), and says whether trying again may help (`transient`: a dropped
 * connection, a 503) or not (a 404, a payload longer than its manifest says). Nobody parses messages.
 */
import { AgentError } from '../core/errors.js';

export type InstallErrorCode =
  /** A boot environment cannot be read, parsed or written. */
  | 'EBOOT_ENV'
  /** A boot environment write did not read back as written. */
  | 'EBOOT_READBACK'
  /** A slot cannot be opened, written or read. */
  | 'ESLOT'
  /** The payload is not what the manifest promised (size, digest, format). */
  | 'EPAYLOAD'
  /** The download failed (HTTP status, network, low speed, retries exhausted). */
  | 'EDOWNLOAD'
  /** Another install, commit or rollback is running, or the state does not allow the request. */
  | 'EBUSY'
  | 'ESTATE'
  /** The request was stopped (the agent is stopping, or the technician cancelled the install). */
  | 'ECANCELLED';

export class InstallError extends AgentError {
  declare readonly code: InstallErrorCode;
  /** Short machine-readable reason for reports, e.g. `digest-mismatch`, `http-404`, `low-speed`. */
  readonly reason: string;
  /** Trying again (after a delay) may succeed. */
  readonly transient: boolean;
  /** A server-requested delay (HTTP Retry-After), when there was one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: InstallErrorCode,
    reason: string,
    message: string,
    options: ErrorOptions & { transient?: boolean; retryAfterMs?: number } = {},
  ) {
    super(code, message, options);
    this.reason = reason;
    this.transient = options.transient ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isInstallError(e: unknown): e is InstallError {
  return e instanceof InstallError;
}

/** True for errors a retry may cure: transient install errors and the network's own errors. */
export function isTransient(e: unknown): boolean {
  if (isInstallError(e)) return e.transient;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);
