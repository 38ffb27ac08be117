/**
 * `edge-agent console`: the client end of the console's Unix socket. On a terminal it switches stdin
 * to raw mode (the agent does the line editing, as on the serial port) and announces the terminal so
 * the agent sends colour and in-place updates; otherwise it pipes stdin through and prints the plain
 * answers, so `printf 'tech\npw\nstatus --json\n' | edge-agent console` works in scripts (keep the
 * password out of shell history). Returns the exit status.
 */
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { errorMessage } from '../core/errors.js';
import { encodeHello } from './socket-hello.js';

export const DEFAULT_CONSOLE_SOCKET = '/run/edge-agent/console.sock';

export interface ConsoleClientOptions {
  readonly socketPath: string;
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable;
}

export function runConsoleClient(options: ConsoleClientOptions): Promise<number> {
  const { socketPath, stdin, stdout, stderr } = options;
  return new Promise((resolve) => {
    const socket = connect({ path: socketPath, allowHalfOpen: true });
    let raw = false;
    let connected = false;
    const restore = () => {
      if (raw) stdin.setRawMode?.(false);
      raw = false;
      stdin.pause();
    };
    socket.once('connect', () => {
      connected = true;
      const tty = stdin.isTTY === true && stdout.isTTY === true;
      if (tty && stdin.setRawMode) {
        stdin.setRawMode(true);
        raw = true;
      }
      socket.write(encodeHello({ tty, columns: stdout.columns ?? 80 }));
      stdin.on('data', (chunk: Buffer) => socket.write(chunk));
      stdin.once('end', () => socket.end());
      stdin.resume();
    });
    socket.on('data', (chunk: Buffer) => stdout.write(chunk));
    socket.once('error', (error) => {
      restore();
      if (!connected) {
        stderr.write(`edge-agent console: cannot connect to ${socketPath}: ${errorMessage(error)}\n`);
        stderr.write('Is the agent running, with console.socket enabled, and are you in its group?\n');
      }
      resolve(1);
    });
    socket.once('close', () => {
      restore();
      resolve(0);
    });
  });
}
