/**
 * The console as the socket and pty tests drive it: on the system clock, one user `tech` with
 * `TEST_PASSWORD`, a login policy fast enough for real time, the audit log in `dir`; and, for the socket
 * tests, its Unix socket listening in `dir`.
 */
import path from 'node:path';
import type { CommandRegistry } from '../../agent/commands/registry.js';
import { AuditLog } from '../../agent/console/audit-log.js';
import { Authenticator } from '../../agent/console/authenticator.js';
import { ConsoleServer } from '../../agent/console/console-server.js';
import { SocketConsole } from '../../agent/console/socket-console.js';
import { SystemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { testHash } from './console-harness.js';

export interface RealTimeConsoleOptions {
  readonly commands: CommandRegistry;
  readonly banner: string;
  readonly loginTimeoutMs?: number;
}

export async function realTimeConsoleServer(
  dir: string,
  options: RealTimeConsoleOptions,
): Promise<{ server: ConsoleServer; audit: AuditLog }> {
  const clock = new SystemClock();
  const log = silentLogger();
  const audit = new AuditLog({ clock, log }, { stateDir: dir });
  const auth = new Authenticator({ clock }, [{ name: 'tech', passwordHash: await testHash() }], {
    maxFailures: 5,
    slowdownMs: 10,
    maxSlowdownMs: 100,
    lockoutMs: 1000,
  });
  const server = new ConsoleServer(
    { clock, log, commands: options.commands, auth, audit, banner: options.banner },
    { idleTimeoutMs: 60_000, ...(options.loginTimeoutMs ? { loginTimeoutMs: options.loginTimeoutMs } : {}) },
  );
  return { server, audit };
}

/** The console listening on `<dir>/<socketName>`; `stop` closes its sessions, then the socket. */
export async function startSocketConsole(
  dir: string,
  options: RealTimeConsoleOptions & { socketName?: string; maxConnections?: number },
): Promise<{ server: ConsoleServer; socket: SocketConsole; audit: AuditLog; stop: () => Promise<void> }> {
  const { server, audit } = await realTimeConsoleServer(dir, options);
  const socket = new SocketConsole(
    { server, log: silentLogger() },
    {
      path: path.join(dir, options.socketName ?? 'console.sock'),
      ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
    },
  );
  await socket.start();
  return {
    server,
    socket,
    audit,
    stop: async () => {
      await server.close('test over');
      await socket.stop();
    },
  };
}
