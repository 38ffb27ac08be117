/**
 * Errors of the GPIO bus (codes documented in types.ts). They carry the line and, for a wrong chip
 * label, the labels the host does have, so a board-profile mistake can be shown without parsing text.
 */
import { AgentError } from '../../core/errors.js';
import type { GpioLineRef } from './types.js';

export type GpioErrorCode =
  | 'EUNKNOWN_CHIP'
  | 'EAMBIGUOUS_CHIP'
  | 'EOFFSET_RANGE'
  | 'EBUSY'
  | 'ECLOSED'
  | 'ENOGPIO'
  | 'EIO';

export class GpioError extends AgentError {
  override readonly code: GpioErrorCode;
  readonly line: GpioLineRef | undefined;
  /** Labels of the chips that exist (for `EUNKNOWN_CHIP`). */
  readonly chips: readonly string[];

  constructor(
    code: GpioErrorCode,
    message: string,
    details: { line?: GpioLineRef; chips?: readonly string[] } = {},
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.code = code;
    this.line = details.line;
    this.chips = details.chips ?? [];
  }
}

export function isGpioError(e: unknown, code?: GpioErrorCode): e is GpioError {
  return e instanceof GpioError && (code === undefined || e.code === code);
}

/** The line is not on this host (wrong board profile or a missing expander): the device is absent. */
export function isLineAbsent(e: unknown): e is GpioError {
  return isGpioError(e) && (e.code === 'EUNKNOWN_CHIP' || e.code === 'EOFFSET_RANGE' || e.code === 'ENOGPIO');
}

export function formatLine(ref: GpioLineRef): string {
  return `${ref.chip}:${ref.offset}`;
}
