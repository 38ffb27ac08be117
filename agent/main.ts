#!/usr/bin/env node
import path from 'node:path';
import type { Agent } from './build-agent.js';
import { buildLocal, type LocalAgent } from './build-local.js';
import { buildProgram } from './cli/program.js';
import { type LoadedConfig, loadConfig } from './config/load-config.js';
import { LogRing } from './console/log-ring.js';
import { SystemClock } from './core/clock.js';
import { errorMessage, isConfigError } from './core/errors.js';
import { hostPaths } from './core/host-paths.js';
import { createLogger, type Logger } from './core/log.js';
import { packageInfo } from './core/package-info.js';
import { DRIVERS } from './hal/drivers/registry.js';
import type { RunOptions } from './run-options.js';

const EXIT_CONFIG = 78;
const STOP_TIMEOUT_MS = 10_000;

/** `edge-agent run`: load, build, start, and stop on SIGTERM/SIGINT. Never returns. */
async function runAgent(options: RunOptions): Promise<never> {
  const info = packageInfo();
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({
      configFile: options.configFile,
      boardFile: options.boardFile,
      env: process.env,
      paths: hostPaths(),
      drivers: DRIVERS,
      boardsDir: path.join(info.root, 'boards'),
    });
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`edge-agent: configuration error\n${error.message}\n`);
      return process.exit(EXIT_CONFIG);
    }
    throw error;
  }

  const consoleConfig = loaded.config.console;
  const logRing = new LogRing(consoleConfig.logLines);
  // A reader of stdout that goes away (a pipe closed) must not take the agent down with EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  // With a console on stdio (offered only when stdin is a terminal: `npm start` in a shell, not a
  // service or a pipe), log lines are printed above its prompt rather than through it.
  const stdio =
    consoleConfig.stdio && process.stdin.isTTY
      ? new (await import('./console/stdio-console.js')).StdioConsole({
          input: process.stdin,
          output: process.stdout,
          onInterrupt: () => process.kill(process.pid, 'SIGINT'),
        })
      : undefined;
  const format = loaded.config.log.format;
  const log = createLogger({
    level: loaded.config.log.level,
    ...(format === 'auto' ? {} : { pretty: format === 'pretty' }),
    ...(stdio && process.stdout.isTTY ? { destination: stdio.logSink } : {}),
    tee: logRing,
  });
  const clock = new SystemClock();

  // Devices and local control first, and only then the rest of the agent is loaded: the sensors are
  // read and the loops run while telemetry, updates, attestation and the console are imported.
  let local: LocalAgent;
  try {
    local = buildLocal(loaded, { clock, log });
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`edge-agent: configuration error\n${error.message}\n`);
      return process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  let agent: Agent | undefined;
  /** Set once the service notifier and the consoles exist: told before and after the stop. */
  let around: { before(signal: NodeJS.Signals): void; after(): Promise<void> } | undefined;
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals, code: number) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without a clean stop');
      process.exit(code);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    around?.before(signal);
    const force = setTimeout(() => {
      log.error({ timeoutMs: STOP_TIMEOUT_MS }, 'stop timed out; exiting');
      void exitAfterFlush(log, code);
    }, STOP_TIMEOUT_MS);
    force.unref();
    try {
      // Whatever has started by now: the whole agent, or the local part still on its own.
      await (agent ?? local).stop();
      log.info('stopped');
    } catch (error) {
      log.error({ err: errorMessage(error) }, 'error while stopping');
    }
    await around?.after();
    await exitAfterFlush(log, code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 143));
  process.on('SIGINT', () => void shutdown('SIGINT', 130));
  /** Ends a start-up step that failed: outputs safe, the reason on stderr, then the exit code. */
  const abort = async (title: string, error: unknown, code: number): Promise<never> => {
    await local.stop().catch(() => undefined);
    process.stderr.write(`edge-agent: ${title}\n${errorMessage(error)}\n`);
    return process.exit(code);
  };
  /** While a signal is stopping the agent, start-up goes no further. */
  const halted = () => new Promise<never>(() => undefined);

  log.info(
    {
      version: info.version,
      board: loaded.board.profile.id,
      config: loaded.configFile,
      stateDir: loaded.stateDir,
    },
    'edge-agent starting',
  );
  await startOrExit(local, log);
  const [
    { buildAgent },
    { identitySettingsFrom },
    { isIdentityError },
    { loadIdentity },
    { createConsole },
    { LinuxSerial },
    { EventLoopProbe, SchedulerProbe },
    { SystemdNotifier },
    { registerRebootCommand },
    { ServiceWatchdog },
  ] = await Promise.all([
    import('./build-agent.js'),
    import('./attest/attest-schema.js'),
    import('./attest/errors.js'),
    import('./attest/identity.js'),
    import('./console/create-console.js'),
    import('./hal/serial/linux.js'),
    import('./service/health-probes.js'),
    import('./service/notify.js'),
    import('./service/reboot-command.js'),
    import('./service/watchdog.js'),
  ]);
  if (stopping) return halted();

  let identity: Awaited<ReturnType<typeof loadIdentity>>;
  try {
    identity = await loadIdentity(
      identitySettingsFrom(loaded.config, loaded.stateDir),
      { clock },
      { create: true },
    );
  } catch (error) {
    // A key or binding that does not match the configuration is a configuration mistake; a TPM failure is fatal.
    const configMistake = isIdentityError(error) && error.code !== 'ETPM';
    return abort('identity error', error, configMistake ? EXIT_CONFIG : 1);
  }
  if (identity.created)
    log.info({ deviceId: identity.deviceId, backend: identity.backend }, 'identity created');
  let built: Agent;
  try {
    built = buildAgent(loaded, { clock, log, identity, local });
  } catch (error) {
    return abort(
      isConfigError(error) ? 'configuration error' : 'build failed',
      error,
      isConfigError(error) ? EXIT_CONFIG : 1,
    );
  }

  registerRebootCommand(built.commands, { clock, log });
  const notifier = SystemdNotifier.fromEnv(process.env, { log: log.child({ mod: 'service' }) });
  const deviceId = loaded.config.deviceId ? ` (${loaded.config.deviceId})` : '';
  const consoles = createConsole(consoleConfig, {
    clock,
    log,
    commands: built.commands,
    logs: logRing,
    stateDir: loaded.stateDir,
    banner: `edge-agent ${info.version} on ${loaded.board.profile.id}${deviceId}`,
    stdio,
    serial: () => new LinuxSerial(),
    env: process.env,
  });
  const eventLoop = new EventLoopProbe(clock);
  const watchdogMs = notifier.watchdogIntervalMs;
  const watchdog =
    watchdogMs === undefined
      ? undefined
      : new ServiceWatchdog(
          {
            clock,
            log: log.child({ mod: 'service' }),
            notifier,
            probes: [eventLoop, new SchedulerProbe(clock, () => built.schedulerStats())],
          },
          { intervalMs: watchdogMs },
        );
  if (stopping) return halted();
  agent = built;
  around = {
    before: (signal) => {
      void notifier.stopping(`stopping (${signal})`);
      watchdog?.stop();
      eventLoop.stop();
    },
    after: async () => {
      // Last: by now the actuators are safe and the outbox flushed, and the technician is told so.
      await consoles
        .stop('edge-agent is stopping: outputs are safe; console closed')
        .catch((error: unknown) => log.error({ err: errorMessage(error) }, 'console stop failed'));
      await notifier.flush();
    },
  };

  void notifier.status('starting');
  await startOrExit(built, log);
  if (stopping) return halted();
  // A console that cannot listen (a serial port that is not there) does not stop the control loops.
  await consoles
    .start()
    .catch((error: unknown) => log.error({ err: errorMessage(error) }, 'console start failed'));
  const sensors = built.devices
    .flatMap((d) => d.pointNames())
    .filter((name) => built.points.get(name)?.writable === false)
    .sort();
  log.info({ devices: loaded.devices.length, sensors }, 'edge-agent running');
  if (watchdog) {
    eventLoop.start();
    watchdog.start();
  }
  void notifier.ready(`running: ${built.devices.length} devices, ${built.loops.names().length} loops`);
  // Signals end the process; until then the event loop is kept alive by timers and handles.
  return new Promise<never>(() => undefined);
}

/** Starts `part`; if that fails, stops whatever of it started and exits 1. */
async function startOrExit(
  part: { start(): Promise<void>; stop(): Promise<void> },
  log: Logger,
): Promise<void> {
  try {
    await part.start();
  } catch (error) {
    log.fatal({ err: errorMessage(error) }, 'start failed');
    await part.stop().catch(() => undefined);
    await exitAfterFlush(log, 1);
  }
}

/** Exits once the log's asynchronous buffer has reached stdout, so the last lines are not lost. */
async function exitAfterFlush(log: Logger, code: number): Promise<never> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    log.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  return process.exit(code);
}

await buildProgram({
  run: runAgent,
  cli: {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    nowMs: () => Date.now(),
    setExitCode: (code) => {
      process.exitCode = code;
    },
    exit: (code) => process.exit(code),
  },
  stdio: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
  env: process.env,
}).parseAsync(process.argv);
