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
import {
  explainStartupFailure,
  formatStartupFailure,
  inStep,
  type StartupContext,
  startupFailureFields,
} from './core/startup-error.js';
import { prepareStateDir } from './core/state-dir.js';
import { DRIVERS } from './hal/drivers/registry.js';
import type { RunOptions } from './run-options.js';
import { checkStoreLock, telemetryDirIn } from './telemetry/store-lock.js';

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
  // The log's format is decided once, for what stdout is: lines for people on a terminal, JSON lines
  // otherwise (`log.format: auto`) — before the console opens as after, so they never mix.
  const stdoutIsTTY = process.stdout.isTTY === true;
  const format = loaded.config.log.format;
  const pretty = format === 'auto' ? stdoutIsTTY : format === 'pretty';
  // With a console on stdio (offered only when stdin and stdout are a terminal: `npm start` in a shell,
  // not a service, a pipe or a file), log lines are printed above its prompt rather than through it.
  const stdio =
    consoleConfig.stdio && process.stdin.isTTY && stdoutIsTTY
      ? new (await import('./console/stdio-console.js')).StdioConsole({
          input: process.stdin,
          output: process.stdout,
          onInterrupt: () => process.kill(process.pid, 'SIGINT'),
        })
      : undefined;
  // The ring behind the console's `logs -f` gets debug lines (every raw reading) whatever the level.
  const log = createLogger({
    level: loaded.config.log.level,
    pretty,
    colour: pretty && stdoutIsTTY,
    ...(stdio ? { destination: stdio.logSink } : {}),
    tee: logRing,
  });
  // Stacks are shown at the configured level, not the logger's: with the ring it runs at debug.
  const configuredDebug = loaded.config.log.level === 'debug' || loaded.config.log.level === 'trace';
  const clock = new SystemClock();
  const paths = hostPaths();
  /**
   * Ends a start-up step that failed with exit 1: one line on stderr (what, where, the likely cause
   * and a hint) and the same as a fatal log line with its fields — the stack only at `log.level:
   * debug` — after whatever has started is stopped (outputs safe).
   */
  const fail = async (error: unknown, step: StartupContext, started?: Stoppable): Promise<never> => {
    const failure = await explainStartupFailure(error, step, {
      stateDir: loaded.stateDir,
      procDir: paths.proc,
    });
    log.fatal(startupFailureFields(failure, { debug: configuredDebug }), 'start failed');
    process.stderr.write(`edge-agent: ${formatStartupFailure(failure)}\n`);
    await started?.stop().catch(() => undefined);
    return exitAfterFlush(log, 1);
  };
  /** Starts `part`; if that fails, stops whatever of it started and exits 1 saying why. */
  const startOrExit = async (part: Stoppable & { start(): Promise<void> }, step: StartupContext) => {
    try {
      await part.start();
    } catch (error) {
      await fail(error, step, part);
    }
  };

  // Devices and local control first, and only then the rest of the agent is loaded: the sensors are
  // read and the loops run while telemetry, updates, attestation and the console are imported.
  let local: LocalAgent;
  try {
    local = await buildLocal(loaded, { clock, log });
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`edge-agent: configuration error\n${error.message}\n`);
      return process.exit(EXIT_CONFIG);
    }
    return fail(error, { step: 'build', what: 'build the devices and local control' });
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
  /** Ends start-up on a configuration mistake found late: outputs safe, the issues on stderr, exit 78. */
  const configAbort = async (title: string, error: unknown): Promise<never> => {
    await local.stop().catch(() => undefined);
    process.stderr.write(`edge-agent: ${title}\n${errorMessage(error)}\n`);
    return process.exit(EXIT_CONFIG);
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
  // Before any output is driven: a state directory the agent cannot use, or a telemetry store another
  // agent has open (a second agent on the same state directory), stops it here and names the cause.
  try {
    await inStep(
      { step: 'state', what: 'use the state directory', path: loaded.stateDir, setting: 'stateDir' },
      () => prepareStateDir(loaded.stateDir),
    );
    if (loaded.config.telemetry.enabled) {
      const dir = telemetryDirIn(loaded.stateDir, loaded.config.telemetry);
      await inStep(
        { step: 'telemetry', what: 'open the telemetry store', path: dir, setting: 'telemetry.dir' },
        () => checkStoreLock(dir, paths.proc),
      );
    }
  } catch (error) {
    return fail(error, { step: 'state', what: 'use the state directory', path: loaded.stateDir });
  }
  await startOrExit(local, { step: 'devices', what: 'start the devices and local control' });
  let modules: Awaited<ReturnType<typeof loadModules>>;
  try {
    modules = await loadModules();
  } catch (error) {
    return fail(error, { step: 'load', what: "load the agent's modules" }, local);
  }
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
  ] = modules;
  if (stopping) return halted();

  let identity: Awaited<ReturnType<typeof loadIdentity>>;
  const identitySettings = identitySettingsFrom(loaded.config, loaded.stateDir);
  try {
    identity = await loadIdentity(identitySettings, { clock }, { create: true });
  } catch (error) {
    // A key or binding that does not match the configuration is a configuration mistake; a TPM failure is fatal.
    if (isIdentityError(error) && error.code !== 'ETPM') return configAbort('identity error', error);
    return fail(
      error,
      { step: 'identity', what: 'load the device identity from', path: identitySettings.dir },
      local,
    );
  }
  if (identity.created)
    log.info({ deviceId: identity.deviceId, backend: identity.backend }, 'identity created');
  let built: Agent;
  try {
    built = await buildAgent(loaded, { clock, log, identity, local });
  } catch (error) {
    if (isConfigError(error)) return configAbort('configuration error', error);
    return fail(error, { step: 'build', what: 'build the agent' }, local);
  }

  registerRebootCommand(built.commands, { clock, log });
  const notifier = SystemdNotifier.fromEnv(process.env, { log: log.child({ mod: 'service' }) });
  const consoles = createConsole(consoleConfig, {
    clock,
    log,
    commands: built.commands,
    logs: logRing,
    stateDir: loaded.stateDir,
    debug: configuredDebug,
    banner: `edge-agent ${info.version} on ${loaded.board.profile.id}`,
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
  await startOrExit(built, { step: 'start', what: 'start the agent' });
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

interface Stoppable {
  stop(): Promise<void>;
}

/** The rest of the agent, loaded once the devices and loops run. */
function loadModules() {
  return Promise.all([
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
