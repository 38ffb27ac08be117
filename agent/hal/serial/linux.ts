/**
 * The serial bus on Linux, over `serialport`'s `SerialPort` (bindings-cpp: termios, an exclusive
 * `flock`, epoll for reads). `serialport` is imported inside `open`, so importing this module on a
 * laptop loads no native code.
 *
 * Three things the library leaves to us. Its open errors carry no errno code (only text such as
 * "Error: No such file or directory, cannot open /dev/ttyUSB0"), so `open` first checks the node with
 * `access(2)` to get `ENOENT`/`EACCES` as codes, and maps the few remaining messages (the lock) by
 * text, in one place. A write queued behind a port that has closed is never called back, so each
 * connection settles its own pending writes (connection-core.ts). And its read loop retries a read
 * that returns 0 bytes forever (serialport/bindings-cpp#162, open): with VMIN=1 that only happens on
 * end-of-file, i.e. a hung-up tty — exactly an unplugged USB adapter — so instead of reporting the
 * disconnect the process spins at 100 % CPU and grows until it is killed. Each port's `read` is
 * replaced by `readUntilHangup`, which is the library's loop with end-of-file made a disconnect.
 */
import { constants, read as fsRead } from 'node:fs';
import { access } from 'node:fs/promises';
import type { SerialPort } from 'serialport';
import { checkOpenOptions, checkWriteBytes } from './check-options.js';
import { ConnectionCore } from './connection-core.js';
import { SerialError, type SerialErrorCode } from './errors.js';
import type {
  SerialBackend,
  SerialCloseListener,
  SerialConnection,
  SerialDataListener,
  SerialOpenOptions,
} from './types.js';

const OPEN_HINTS: Partial<Record<SerialErrorCode, string>> = {
  ENOENT: 'no such port (adapter unplugged, wrong path, or the UART is not enabled)',
  EACCES: 'permission denied (add the service user to group dialout)',
  EBUSY: 'the port is already open (another process holds its lock)',
};

export class LinuxSerial implements SerialBackend {
  readonly kind = 'linux';
  readonly #connections = new Set<LinuxSerialConnection>();

  async open(options: SerialOpenOptions): Promise<SerialConnection> {
    const opts = checkOpenOptions(options);
    try {
      await access(opts.path, constants.R_OK | constants.W_OK);
    } catch (e) {
      const code: SerialErrorCode = errnoCode(e) === 'EACCES' ? 'EACCES' : 'ENOENT';
      throw new SerialError(code, opts.path, `cannot open ${opts.path}: ${OPEN_HINTS[code]}`, { cause: e });
    }
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({
      path: opts.path,
      baudRate: opts.baudRate,
      dataBits: opts.dataBits,
      stopBits: opts.stopBits,
      parity: opts.parity,
      autoOpen: false,
      lock: true,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((error) => (error ? reject(openError(opts.path, error)) : resolve()));
    });
    // No read has started yet: the stream reads only once a 'data' listener is attached, below.
    if (isUnixPortBinding(port.port)) port.port.read = readUntilHangup(port.port);
    const connection = new LinuxSerialConnection(port, opts.path, opts.baudRate, (c) =>
      this.#connections.delete(c),
    );
    this.#connections.add(connection);
    return connection;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#connections].map((c) => c.close()));
  }
}

class LinuxSerialConnection implements SerialConnection {
  readonly path: string;
  readonly baudRate: number;
  readonly #port: SerialPort;
  readonly #core: ConnectionCore;
  #closing: Promise<void> | undefined;

  constructor(
    port: SerialPort,
    path: string,
    baudRate: number,
    onClosed: (c: LinuxSerialConnection) => void,
  ) {
    this.path = path;
    this.baudRate = baudRate;
    this.#port = port;
    this.#core = new ConnectionCore(path);
    port.on('data', (chunk: Buffer) => this.#core.emitData(chunk));
    port.on('close', (error: Error | null) => {
      // serialport passes a DisconnectedError when a read or write failed under it (EIO, ENXIO,
      // EBADF: the adapter or the pty master went away), and null after our own close().
      this.#core.finish(
        error
          ? new SerialError('EDISCONNECTED', path, `${path}: device disconnected`, { cause: error })
          : undefined,
      );
      onClosed(this);
      port.destroy();
    });
    // Failures of our calls come back through their callbacks; this keeps a stray 'error' event (emitted
    // when serialport has no callback to give it to) from becoming an uncaught exception.
    port.on('error', () => undefined);
  }

  get isOpen(): boolean {
    return this.#core.isOpen;
  }

  write(bytes: Uint8Array): Promise<void> {
    checkWriteBytes(bytes);
    return this.#core.write((done) => {
      this.#port.write(asBuffer(bytes), (error) => {
        done(
          error
            ? new SerialError('EIO', this.path, `${this.path}: write failed`, { cause: error })
            : undefined,
        );
      });
    });
  }

  onData(listener: SerialDataListener): () => void {
    return this.#core.onData(listener);
  }

  onClose(listener: SerialCloseListener): () => void {
    return this.#core.onClose(listener);
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (!this.#port.isOpen) {
        this.#core.finish(undefined);
        resolve();
        return;
      }
      // The 'close' event (above) finishes the core; the callback only tells us it happened. A failed
      // close(2) leaves nothing we could retry, so the connection counts as closed either way.
      this.#port.close(() => {
        this.#core.finish(undefined);
        resolve();
      });
    });
    return this.#closing;
  }
}

/** The parts of bindings-cpp's `LinuxPortBinding` (and `DarwinPortBinding`) that its own read uses. */
interface UnixPortBinding {
  readonly isOpen: boolean;
  readonly fd: number | null;
  readonly poller: { once(event: 'readable', callback: (error: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
}

function isUnixPortBinding(binding: unknown): binding is UnixPortBinding {
  return typeof binding === 'object' && binding !== null && 'poller' in binding && 'fd' in binding;
}

/**
 * bindings-cpp's `unixRead`, except that a 0-byte read (end of file: the tty hung up) rejects as a
 * disconnect instead of being retried. Errors flagged `canceled` are the library's "we closed it".
 */
function readUntilHangup(binding: UnixPortBinding): UnixPortBinding['read'] {
  return async (buffer, offset, length) => {
    for (;;) {
      if (!binding.isOpen || binding.fd === null) throw canceled();
      const fd = binding.fd;
      const bytesRead = await new Promise<number>((resolve, reject) => {
        fsRead(fd, buffer, offset, length, null, (error, n) => (error ? reject(error) : resolve(n)));
      }).catch((error: unknown) => {
        const code = errnoCode(error);
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return -1;
        throw error;
      });
      if (bytesRead > 0) return { buffer, bytesRead };
      if (bytesRead === 0)
        throw Object.assign(new Error('end of file: the tty hung up'), { disconnect: true });
      if (!binding.isOpen) throw canceled();
      await new Promise<void>((resolve, reject) => {
        binding.poller.once('readable', (error) => (error ? reject(error) : resolve()));
      });
    }
  };
}

function canceled(): Error {
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** bindings-cpp reports open failures as text only; these are the ones with a contract code. */
function openError(path: string, error: Error): SerialError {
  const text = error.message;
  const code: SerialErrorCode = /cannot lock port|resource temporarily unavailable/i.test(text)
    ? 'EBUSY'
    : /permission denied/i.test(text)
      ? 'EACCES'
      : /no such file or directory/i.test(text)
        ? 'ENOENT'
        : 'EIO';
  const hint = OPEN_HINTS[code] ?? text;
  return new SerialError(code, path, `cannot open ${path}: ${hint}`, { cause: error });
}
