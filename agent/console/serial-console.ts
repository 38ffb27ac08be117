/**
 * The console on a serial port (the gateway's UART, a USB gadget `ttyGS0`, a USB adapter), through
 * the serial bus contract (hal/serial/types.ts) — `serialport` on Linux. One session lives on the port
 * for as long as it is open; logout returns to the login prompt. A port that is missing or goes away
 * (a USB adapter unplugged) is reopened with backoff, never stopping the agent. Serial terminal
 * emulators (picocom, minicom, screen) all speak ANSI, so the session gets colour and in-place updates.
 * Output waiting for the line is bounded (`SERIAL_OUTPUT_MAX_BYTES`): a peer that floods keys faster
 * than their echo drains, or a line that stalls, loses output instead of growing the agent's memory.
 * A session that ends itself (a peer flooding before login) closes the port, which is reopened after
 * the usual pause.
 */

import { Backoff } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { SerialBackend, SerialConnection } from '../hal/serial/types.js';
import type { ConsoleServer } from './console-server.js';

/** Output waiting to be written to the port beyond which more is dropped (~6 s at 115200 bit/s). */
export const SERIAL_OUTPUT_MAX_BYTES = 64 * 1024;

export interface SerialConsoleOptions {
  readonly path: string;
  readonly baudRate: number;
  /** The peer renders ANSI (default true: every serial terminal emulator does). */
  readonly ansi?: boolean;
}

export class SerialConsole {
  readonly #deps: { server: ConsoleServer; log: Logger; clock: Clock; backend: SerialBackend };
  readonly #options: SerialConsoleOptions;
  readonly #abort = new AbortController();
  #connection: SerialConnection | undefined;
  #loop: Promise<void> | undefined;

  constructor(
    deps: { server: ConsoleServer; log: Logger; clock: Clock; backend: SerialBackend },
    options: SerialConsoleOptions,
  ) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Opens the port in the background (retrying while it is missing); resolves at once. */
  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort(new Error('console stopped'));
    await this.#connection?.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { log, clock, backend, server } = this.#deps;
    const { path, baudRate } = this.#options;
    const signal = this.#abort.signal;
    const backoff = new Backoff({ baseMs: 1000, maxMs: 30_000 });
    while (!signal.aborted) {
      let connection: SerialConnection;
      try {
        connection = await backend.open({ path, baudRate });
      } catch (error) {
        const delayMs = backoff.next();
        log.warn(
          { path, err: errorMessage(error), retryInMs: Math.round(delayMs) },
          'console serial port unavailable',
        );
        await clock.sleep(delayMs, signal).catch(() => undefined);
        continue;
      }
      backoff.reset();
      this.#connection = connection;
      log.info({ path, baudRate }, 'console on serial port');
      const closed = new Promise<void>((resolve) => connection.onClose(() => resolve()));
      // Writes are chained so that the last one (a goodbye) can be waited for before closing.
      let written: Promise<void> = Promise.resolve();
      let pendingBytes = 0;
      let dropping = false;
      if (server.closed) {
        await connection.close();
        break;
      }
      const session = server.attach(
        {
          name: `serial:${path}`,
          send: (text) => {
            if (!connection.isOpen) return;
            const bytes = Buffer.from(text, 'utf8');
            if (pendingBytes + bytes.length > SERIAL_OUTPUT_MAX_BYTES) {
              if (!dropping) log.warn({ path, pendingBytes }, 'console serial output backed up: dropping');
              dropping = true;
              return;
            }
            dropping = false;
            pendingBytes += bytes.length;
            written = written
              .then(() => connection.write(bytes))
              .catch(() => undefined)
              .finally(() => {
                pendingBytes -= bytes.length;
              });
          },
          hangup: () => undefined,
        },
        { terminal: { ansi: this.#options.ansi ?? true, columns: 80 }, hangupOnLogout: false },
      );
      connection.onData((chunk) => session.input(chunk));
      const ended = session.start();
      await Promise.race([closed, ended]);
      session.hangup();
      const drained = new AbortController();
      await Promise.race([written, clock.sleep(1000, drained.signal).catch(() => undefined)]);
      drained.abort();
      await connection.close();
      this.#connection = undefined;
      if (signal.aborted || server.closed) break;
      log.warn({ path }, 'console serial port closed; reopening');
      await clock.sleep(backoff.next(), signal).catch(() => undefined);
    }
  }
}
