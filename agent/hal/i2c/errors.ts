/**
 * Errors of the I²C bus (codes documented in types.ts). The Linux backend passes the kernel's errno name
 * through as the code, so `EREMOTEIO` from a Pi means what it means in `i2cget`; the simulator uses the
 * same names. They carry the bus and address so a log line needs no message parsing.
 */
import { AgentError } from '../../core/errors.js';

/**
 * The codes a caller can expect. The Linux backend may pass other errno names through unchanged
 * (whatever the adapter driver returns), hence the open string.
 */
export type I2cErrorCode =
  | 'ENXIO'
  | 'EREMOTEIO'
  | 'EIO'
  | 'ETIMEDOUT'
  | 'EAGAIN'
  | 'ENOENT'
  | 'EACCES'
  | 'ENODEV'
  | 'EBUSY'
  | 'ECLOSED'
  | (string & {});

export class I2cError extends AgentError {
  override readonly code: I2cErrorCode;
  readonly busNumber: number;
  /** The 7-bit address of the transaction, `undefined` for errors of the bus itself (open). */
  readonly address: number | undefined;

  constructor(
    code: I2cErrorCode,
    message: string,
    where: { busNumber: number; address?: number | undefined },
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.code = code;
    this.busNumber = where.busNumber;
    this.address = where.address;
  }
}

export function isI2cError(e: unknown, code?: I2cErrorCode): e is I2cError {
  return e instanceof I2cError && (code === undefined || e.code === code);
}

/**
 * Nothing acknowledged: no device at that address, or the device refused the byte (busy, unknown
 * command). Adapters differ in how they say it — the Pi's `i2c-bcm2835` returns `EREMOTEIO` for
 * both, others return `ENXIO` for an address NACK — so callers test this, not a single code.
 */
export function isI2cNack(e: unknown): e is I2cError {
  return isI2cError(e) && (e.code === 'ENXIO' || e.code === 'EREMOTEIO');
}

export function formatAddress(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}
