/**
 * Builds the console from its configuration section: the authenticator and audit log shared by every
 * transport, the server, and the transports the configuration enables (serial, Unix socket, stdio).
 * Called by the composition root, which alone decides when to start and stop it.
 */
import path from 'node:path';
import type { CommandRegistry } from '../commands/registry.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { explainStartupFailure, startupFailureFields } from '../core/startup-error.js';
import type { SerialBackend } from '../hal/serial/types.js';
import { AuditLog } from './audit-log.js';
import { Authenticator } from './authenticator.js';
import type { ConsoleConfig } from './console-schema.js';
import { ConsoleServer } from './console-server.js';
import type { LogRing } from './log-ring.js';
import { SerialConsole } from './serial-console.js';
import { SocketConsole } from './socket-console.js';
import type { StdioConsole } from './stdio-console.js';
import { UnlockRequests } from './unlock-requests.js';

export interface ConsoleDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly commands: CommandRegistry;
  readonly logs: LogRing | undefined;
  readonly stateDir: string;
  readonly banner: string;
  /** The stdio console, made before the logger (it is the logger's destination on a terminal). */
  readonly stdio?: StdioConsole | undefined;
  /** The serial backend for `console.serial` (Linux `serialport` in production). */
  readonly serial?: (() => SerialBackend) | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** `log.level` is debug or trace: failures are logged with their stacks. */
  readonly debug?: boolean;
}

export interface Console {
  readonly server: ConsoleServer;
  readonly socketPath: string | undefined;
  readonly audit: AuditLog;
  start(): Promise<void>;
  /** Closes every session with `message`, then stops listening. */
  stop(message: string): Promise<void>;
}

export function createConsole(config: ConsoleConfig, deps: ConsoleDeps): Console {
  const log = deps.log.child({ mod: 'console' });
  const { clock } = deps;
  const audit = new AuditLog(
    { clock, log },
    { stateDir: deps.stateDir, maxBytes: config.audit.maxBytes, generations: config.audit.generations },
  );
  const auth = new Authenticator({ clock }, config.users, config.lockout);
  const server = new ConsoleServer(
    {
      clock,
      log,
      commands: deps.commands,
      logs: deps.logs,
      watchIntervalMs: config.watchIntervalMs,
      auth,
      audit,
      unlocks: new UnlockRequests(deps.stateDir),
      banner: deps.banner,
    },
    { idleTimeoutMs: config.idleTimeoutMs, loginTimeoutMs: config.loginTimeoutMs },
  );
  const runtimeDir = deps.env?.RUNTIME_DIRECTORY?.split(':')[0];
  const socketPath = config.socket.enabled
    ? (config.socket.path ?? path.join(runtimeDir ?? deps.stateDir, 'console.sock'))
    : undefined;
  const socket = socketPath
    ? new SocketConsole({ server, log }, { path: socketPath, maxConnections: config.socket.maxConnections })
    : undefined;
  const serialConfig = config.serial;
  const serial =
    serialConfig && deps.serial
      ? new SerialConsole({ server, log, clock, backend: deps.serial() }, serialConfig)
      : undefined;
  return {
    server,
    socketPath,
    audit,
    async start() {
      if (!auth.hasUsers) {
        log.warn('no console users configured (console.users): nobody can log in; see `edge-agent passwd`');
      }
      // Each transport on its own: a socket directory that cannot be written leaves the serial port.
      // Not fatal either: the technician's console is not worth stopping the control loops for.
      await socket?.start().catch(async (error: unknown) => {
        const failure = await explainStartupFailure(
          error,
          {
            step: 'console',
            what: 'listen on the console socket',
            path: socketPath,
            setting: 'console.socket.path',
          },
          { stateDir: deps.stateDir },
        );
        log.error(
          startupFailureFields(failure, { debug: deps.debug ?? false }),
          'console socket unavailable',
        );
      });
      serial?.start();
      deps.stdio?.start(server);
    },
    async stop(message) {
      await server.close(message);
      deps.stdio?.stop();
      await Promise.all([socket?.stop(), serial?.stop()]);
    },
  };
}
