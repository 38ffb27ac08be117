/**
 * The console on a Unix socket, for someone on the box over SSH (`edge-agent console`). The socket is
 * created mode 0660 in the agent's runtime directory, so only root and members of the agent's group
 * reach it — and they still log in like on the serial port. Each connection is a session that ends
 * (and closes the connection) at logout. A stale socket file from a previous run (nobody accepts on
 * it) is replaced; one that a live process still listens on is left alone, and `start` rejects with
 * that EADDRINUSE — the running agent keeps its console.
 *
 * Against a hostile or stuck client: at most `maxConnections` are open at once (one more is told so in
 * one line and closed); a client that does not read what the console writes is no longer read from
 * once `OUTPUT_PAUSE_BYTES` wait for it (so its typing cannot pile up echo), and is hung up on at
 * `OUTPUT_MAX_BYTES` (output it did not ask for, a `logs -f` left running). The session closes a
 * connection that does not log in within `console.loginTimeoutMs`. Hanging up stops reading at once
 * and closes both directions, so a half-open client cannot keep sending into, or holding, a place.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ConsoleServer } from './console-server.js';
import { type ConsoleHello, takeHello } from './socket-hello.js';

export interface SocketConsoleOptions {
  readonly path: string;
  /** File mode of the socket (default 0o660). */
  readonly mode?: number;
  /** Connections open at once (default 16). */
  readonly maxConnections?: number;
}

/** How long a new connection may take to send its hello before it gets the interactive console. */
const HELLO_WAIT_MS = 150;

interface PeerSession {
  input(chunk: Uint8Array): void;
  endOfInput(): void;
  hangup(): void;
}

/** Output waiting for a client beyond which its input is no longer read, until it reads. */
export const OUTPUT_PAUSE_BYTES = 64 * 1024;
/** Output waiting for a client that does not read at all: it is hung up on. */
export const OUTPUT_MAX_BYTES = 1024 * 1024;

export class SocketConsole {
  readonly #server: ConsoleServer;
  readonly #log: Logger;
  readonly #options: SocketConsoleOptions;
  readonly #sockets = new Set<Socket>();
  #listener: Server | undefined;

  constructor(deps: { server: ConsoleServer; log: Logger }, options: SocketConsoleOptions) {
    if (typeof options.path !== 'string' || options.path === '')
      throw new TypeError('path must be a non-empty string');
    const max = options.maxConnections;
    if (max !== undefined && !(Number.isInteger(max) && max >= 1))
      throw new TypeError(`maxConnections must be an integer >= 1, got ${max}`);
    this.#server = deps.server;
    this.#log = deps.log;
    this.#options = options;
  }

  get path(): string {
    return this.#options.path;
  }

  async start(): Promise<void> {
    const file = this.#options.path;
    await mkdir(path.dirname(file), { recursive: true });
    // Half-open: a script that pipes its commands in and closes its end still gets the answers.
    const listen = () =>
      listenOn(
        createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket)),
        file,
      );
    let listener: Server;
    try {
      listener = await listen();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || (await isListenedOn(file))) throw error;
      await rm(file, { force: true });
      listener = await listen();
    }
    this.#listener = listener;
    listener.on('error', (err) => this.#log.error({ err: errorMessage(err) }, 'console socket failed'));
    await chmod(file, this.#options.mode ?? 0o660);
    this.#log.info({ path: file }, 'console listening on a Unix socket');
  }

  /** Stops accepting and drops remaining connections (sessions are closed by the server first). */
  async stop(): Promise<void> {
    const listener = this.#listener;
    this.#listener = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (!listener) return;
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    await rm(this.#options.path, { force: true });
  }

  #accept(socket: Socket): void {
    const max = this.#options.maxConnections ?? 16;
    if (this.#sockets.size >= max) {
      this.#log.warn({ open: this.#sockets.size }, 'console connection refused: too many open');
      socket.on('error', () => undefined);
      socket.write(`edge-agent console: too many connections (${max} open); try again later\n`);
      hangUp(socket);
      return;
    }
    this.#sockets.add(socket);
    // Our client's hello says what is on the other end: a terminal, a pipe, or a script (-c). A
    // client that sends none (`socat -`) gets the interactive console after a moment.
    let session: PeerSession | undefined;
    let ended = false;
    const link = {
      name: 'socket',
      send: (text: string) => this.#send(socket, text),
      hangup: () => hangUp(socket),
    };
    const attach = (hello: ConsoleHello | undefined, rest: Buffer) => {
      clearTimeout(noHello);
      try {
        session = hello?.script
          ? this.#server.attachScript(link)
          : this.#server.attach(link, {
              terminal: { ansi: hello?.tty ?? false, columns: hello?.columns ?? 80, rows: hello?.rows },
              hangupOnLogout: true,
            });
      } catch {
        socket.destroy();
        return;
      }
      if (rest.length > 0) session.input(rest);
      if (ended) session.endOfInput();
    };
    const noHello = setTimeout(() => attach(undefined, Buffer.alloc(0)), HELLO_WAIT_MS);
    socket.on('data', (chunk: Buffer) => {
      if (session) {
        session.input(chunk);
        return;
      }
      const { hello, rest } = takeHello(chunk);
      attach(hello, rest);
    });
    socket.on('end', () => {
      ended = true;
      session?.endOfInput();
    });
    socket.on('error', (err) =>
      this.#log.debug({ err: errorMessage(err) }, 'console socket connection error'),
    );
    socket.on('close', () => {
      clearTimeout(noHello);
      this.#sockets.delete(socket);
      session?.hangup();
    });
  }

  #send(socket: Socket, text: string): void {
    if (socket.destroyed || !socket.writable) return;
    socket.write(text);
    const queued = socket.writableLength;
    if (queued > OUTPUT_MAX_BYTES) {
      this.#log.warn({ queuedBytes: queued }, 'console client does not read its output: hanging up');
      socket.destroy();
    } else if (queued > OUTPUT_PAUSE_BYTES && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => {
        if (!socket.writableEnded) socket.resume();
      });
    }
  }
}

/** Time a hung-up client gets to take the last output before the connection is dropped anyway. */
const HANGUP_GRACE_MS = 5000;

/**
 * Ends a connection for good: stops reading (a half-open client could otherwise go on sending, and
 * hold its place, forever), sends what is queued, then closes both directions — or drops the
 * connection if the client does not take that output within `HANGUP_GRACE_MS`.
 */
function hangUp(socket: Socket): void {
  socket.pause();
  socket.setTimeout(HANGUP_GRACE_MS, () => socket.destroy());
  socket.end(() => socket.destroy());
}

function listenOn(listener: Server, file: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(file, () => {
      listener.off('error', reject);
      resolve(listener);
    });
  });
}

/**
 * Whether a process accepts connections on the socket file: a connection is refused on a stale one.
 * (The running agent sees a console session open and close.)
 */
function isListenedOn(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      probe.destroy();
      resolve(error.code !== 'ECONNREFUSED' && error.code !== 'ENOENT');
    });
  });
}
