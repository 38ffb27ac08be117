/**
 * `edge-agent console`: the client end of the console's Unix socket, in one of two modes.
 *
 * - A person at a terminal (stdin and stdout are a tty, no `-c`): stdin goes to raw mode, the agent
 *   does the line editing as on the serial port, and the hello announces the terminal so the agent
 *   sends colour and in-place updates.
 * - A script (`-c COMMAND`, repeatable; or commands piped into stdin): the script console
 *   (script-session.ts). With `-c` the user comes from `--user` and the password from a file or
 *   `EDGE_AGENT_CONSOLE_PASSWORD` (asked for, without echo, on a terminal); piped, the first two
 *   lines are the user and the password. Results go to stdout with LF (one JSON line each with
 *   `--json`), messages to stderr, and the exit status says how it went: 0 every command succeeded,
 *   1 the login failed (or the connection did), 2 a command failed or was refused.
 */
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { errorMessage } from '../core/errors.js';
import { encodeHello } from './socket-hello.js';

export const DEFAULT_CONSOLE_SOCKET = '/run/edge-agent/console.sock';

export interface ConsoleClientOptions {
  readonly socketPath: string;
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  readonly stderr: Writable;
  /** Script mode with these command lines (`-c`), logging in as `user` with `password`. */
  readonly script?: {
    readonly commands: readonly string[];
    readonly user: string;
    readonly password: string;
  };
}

export function runConsoleClient(options: ConsoleClientOptions): Promise<number> {
  const { stdin, stdout } = options;
  if (options.script || !(stdin.isTTY === true && stdout.isTTY === true)) return runScript(options);
  return runInteractive(options);
}

function runInteractive(options: ConsoleClientOptions): Promise<number> {
  const { socketPath, stdin, stdout } = options;
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
      if (stdin.setRawMode) {
        stdin.setRawMode(true);
        raw = true;
      }
      socket.write(encodeHello({ tty: true, columns: stdout.columns ?? 80, rows: stdout.rows }));
      stdin.on('data', (chunk: Buffer) => socket.write(chunk));
      stdin.once('end', () => socket.end());
      stdin.resume();
    });
    socket.on('data', (chunk: Buffer) => stdout.write(chunk));
    socket.once('error', (error) => {
      restore();
      if (!connected) cannotConnect(options, error);
      resolve(1);
    });
    socket.once('close', () => {
      restore();
      resolve(0);
    });
  });
}

/** The script console: sends the login and the commands, sorts the framed replies, returns the code. */
function runScript(options: ConsoleClientOptions): Promise<number> {
  const { socketPath, stdin, stdout, stderr, script } = options;
  return new Promise((resolve) => {
    const socket = connect({ path: socketPath, allowHalfOpen: true });
    let connected = false;
    let code: number | undefined;
    let pending = '';
    socket.once('connect', () => {
      connected = true;
      socket.write(encodeHello({ tty: false, columns: 80, script: true }));
      if (script) {
        socket.end([script.user, script.password, ...script.commands, ''].join('\n'));
        return;
      }
      stdin.on('data', (chunk: Buffer) => socket.write(chunk));
      stdin.once('end', () => socket.end());
      stdin.resume();
    });
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const body = line.slice(2);
        if (line.startsWith('o ')) stdout.write(`${body}\n`);
        else if (line.startsWith('e ')) stderr.write(`${body}\n`);
        else if (line.startsWith('x ')) code = Number(body);
        else stderr.write(`${line}\n`); // the socket's own refusal (too many connections)
      }
    });
    socket.once('error', (error) => {
      if (!connected) cannotConnect(options, error);
      else stderr.write(`edge-agent console: ${errorMessage(error)}\n`);
    });
    socket.once('close', () => {
      stdin.pause();
      if (code === undefined && connected)
        stderr.write('edge-agent console: the agent closed the connection\n');
      resolve(code !== undefined && Number.isInteger(code) ? code : 1);
    });
  });
}

function cannotConnect(options: ConsoleClientOptions, error: Error): void {
  options.stderr.write(
    `edge-agent console: cannot connect to ${options.socketPath}: ${errorMessage(error)}\n`,
  );
  options.stderr.write('Is the agent running, with console.socket enabled, and are you in its group?\n');
}
