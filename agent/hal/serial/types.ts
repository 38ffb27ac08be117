/**
 * The serial bus contract: a byte pipe to one UART (`/dev/ttyAMA0`, a USB adapter's `/dev/ttyUSB0`,
 * a pseudo-terminal). Serial has no framing and no flow of requests and answers: the device talks when
 * it likes (a PMS5003 pushes a frame every second), so data is *pushed* to listeners, and drivers parse
 * it with a streaming decoder (see `byte-queue.ts` and `hal/drivers/pms5003/frame.ts`).
 *
 * Data arrives in arbitrary chunks. One 32-byte frame may come as 1 + 31 bytes, or two frames and half
 * of a third in one chunk; the split depends on the UART FIFO, the USB adapter's latency timer and
 * scheduling, never on the device's framing. A decoder must accept any split (the PMS5003 tests prove
 * it for every split). Chunks that arrive while no data listener is registered are discarded — a
 * serial line has no replay — so register `onData` right after `open` resolves, in the same tick.
 *
 * Errors (`SerialError` in errors.ts, branch on `code`):
 *  - `ENOENT` — from `open`: no such port (USB adapter unplugged, wrong path, UART not enabled);
 *  - `EACCES` — from `open`: no permission (service user not in group `dialout`);
 *  - `EBUSY`  — from `open`: the port is already open (this backend, or another process holding the
 *    exclusive lock: a forgotten `picocom`);
 *  - `ECLOSED` — `write` on a closed connection, or a write still pending when `close()` was called;
 *  - `EDISCONNECTED` — the device disappeared while open (USB adapter pulled, pty master closed): the
 *    connection closes by itself and `onClose` listeners receive this error;
 *  - `EIO` — anything else the OS reported (not a tty, a failed `tcsetattr`).
 * Misuse — `path` not a non-empty string, `baudRate` not a positive integer, `dataBits`, `stopBits` or
 * `parity` outside their sets, `write` of something that is not a `Uint8Array` — throws `TypeError`
 * naming the parameter, before anything reaches the port, in both backends.
 */
import type { SerialError } from './errors.js';

export type SerialParity = 'none' | 'even' | 'odd';

export interface SerialOpenOptions {
  /** Device node, e.g. `/dev/ttyUSB0`; on the simulator any name made with `sim.port(path)`. */
  readonly path: string;
  /** Line speed in bit/s, e.g. 9600 (PMS5003) or 115200. */
  readonly baudRate: number;
  /** 5–8, default 8. */
  readonly dataBits?: 5 | 6 | 7 | 8;
  /** 1 or 2, default 1. */
  readonly stopBits?: 1 | 2;
  /** Default `none`. */
  readonly parity?: SerialParity;
}

/** Called with each chunk as it arrives; the chunk is the listener's to keep (it is not reused). */
export type SerialDataListener = (chunk: Uint8Array) => void;

/**
 * Called once when the connection closes: with `undefined` after `close()`, with a `SerialError`
 * (`EDISCONNECTED`) when the device went away on its own.
 */
export type SerialCloseListener = (error: SerialError | undefined) => void;

export interface SerialConnection {
  readonly path: string;
  readonly baudRate: number;
  /** False once closed, by `close()` or because the device disappeared. */
  readonly isOpen: boolean;
  /**
   * Queues `bytes` for transmission; resolves when they have been handed to the OS driver (they may
   * still be in the UART's FIFO). Writes go out in call order. Rejects `ECLOSED` if the connection is
   * closed before the bytes were handed over (or was already closed), `EDISCONNECTED` if the device
   * disappeared meanwhile — in both cases none or only part of the bytes may have been sent.
   */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Registers a data listener (see the chunking note above). Listeners are called in registration
   * order; one that throws is reported by rethrowing asynchronously and does not stop the others.
   * Returns the function that removes it. No listener is called after the connection has closed.
   */
  onData(listener: SerialDataListener): () => void;
  /**
   * Registers a close listener, called once when the connection closes (not called if it is already
   * closed — check `isOpen`). Returns the function that removes it.
   */
  onClose(listener: SerialCloseListener): () => void;
  /**
   * Closes the port. Pending writes reject `ECLOSED`; data listeners are not called again; close
   * listeners are called with `undefined`. Idempotent; never rejects.
   */
  close(): Promise<void>;
}

export interface SerialBackend {
  readonly kind: 'linux' | 'sim';
  /**
   * Opens a port (8N1 unless told otherwise, no flow control, raw mode: no echo, no line editing).
   * Rejects `ENOENT`, `EACCES`, `EBUSY` or `EIO` as above. Another `open` of the same path while it is
   * open rejects `EBUSY`.
   */
  open(options: SerialOpenOptions): Promise<SerialConnection>;
  /** Closes every connection this backend opened that is still open (shutdown). Never rejects. */
  close(): Promise<void>;
}
