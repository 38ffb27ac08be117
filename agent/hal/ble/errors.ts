/**
 * The BLE bus's one error: the adapter cannot be used (reasons documented in types.ts). It is data,
 * not a crash: the supervisor retries with backoff, the status shows the reason, the agent runs on.
 */
import { AgentError } from '../../core/errors.js';

export type BleUnavailableReason =
  | 'no-bluetooth-support'
  | 'no-adapter'
  | 'unsupported'
  | 'unauthorized'
  | 'powered-off'
  | 'timeout'
  | 'scan-failed'
  | 'scan-stopped';

export class BleUnavailableError extends AgentError {
  override readonly code = 'EBLE_UNAVAILABLE';
  readonly reason: BleUnavailableReason;

  constructor(reason: BleUnavailableReason, message: string, options?: ErrorOptions) {
    super('EBLE_UNAVAILABLE', message, options);
    this.reason = reason;
  }
}

export function isBleUnavailable(e: unknown): e is BleUnavailableError {
  return e instanceof BleUnavailableError;
}
