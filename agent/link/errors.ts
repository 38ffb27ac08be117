/** Link errors: a stable `code` to branch on (see types.ts for when each happens). */
import { AgentError } from '../core/errors.js';

export type LinkErrorCode = 'ENOTCONNECTED' | 'ECLOSED' | 'EREJECTED' | 'ESTOPPED';

export class LinkError extends AgentError {
  declare readonly code: LinkErrorCode;
  /** The MQTT 5 reason code, for `EREJECTED`. */
  readonly reasonCode: number | undefined;
  constructor(code: LinkErrorCode, message: string, options?: ErrorOptions & { reasonCode?: number }) {
    super(code, message, options);
    this.reasonCode = options?.reasonCode;
  }
}

export function isLinkError(e: unknown): e is LinkError {
  return e instanceof LinkError;
}
