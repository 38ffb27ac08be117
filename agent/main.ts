#!/usr/bin/env node
import path from 'node:path';
import { identitySettingsFrom } from './attest/attest-schema.js';
import { isIdentityError } from './attest/errors.js';
import { type Identity, loadIdentity } from './attest/identity.js';
import { type Agent, buildAgent } from './build-agent.js';
import { buildProgram } from './cli/program.js';
import { type LoadedConfig, loadConfig } from './config/load-config.js';
import { createConsole } from './console/create-console.js';
import { LogRing } from './console/log-ring.js';
import { StdioConsole } from './console/stdio-console.js';
import { SystemClock } from './core/clock.js';
import { errorMessage, isConfigError } from './core/errors.js';
import { hostPaths } from './core/host-paths.js';
import { createLogger, type Logger } from './core/log.js';
import { packageInfo } from './core/package-info.js';
import { DRIVERS } from './hal/drivers/registry.js';
import { LinuxSerial } from './hal/serial/linux.js';
import type { RunOptions } from './run-options.js';
import { EventLoopProbe, SchedulerProbe } from './service/health-probes.js';
import { SystemdNotifier } from './service/notify.js';
import { registerRebootCommand } from './service/reboot-command.js';
import { ServiceWatchdog } from './service/watchdog.js';

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
      ? new StdioConsole({
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
  let identity: Identity;
  try {
    identity = await loadIdentity(
      identitySettingsFrom(loaded.config, loaded.stateDir),
      { clock },
      { create: true },
    );
  } catch (error) {
    // A key or binding that does not match the configuration is a configuration mistake; a TPM failure is fatal.
    const configMistake = isIdentityError(error) && error.code !== 'ETPM';
    process.stderr.write(`edge-agent: identity error\n${errorMessage(error)}\n`);
    return process.exit(configMistake ? EXIT_CONFIG : 1);
  }
  if (identity.created)
    log.info({ deviceId: identity.deviceId, backend: identity.backend }, 'identity created');
  let agent: Agent;
  try {
    agent = buildAgent(loaded, { clock, log, identity });
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`edge-agent: configuration error\n${error.message}\n`);
      return process.exit(EXIT_CONFIG);
    }
    throw error;
  }

  registerRebootCommand(agent.commands, { clock, log });
  const notifier = SystemdNotifier.fromEnv(process.env, { log: log.child({ mod: 'service' }) });
  const deviceId = loaded.config.deviceId ? ` (${loaded.config.deviceId})` : '';
  const consoles = createConsole(consoleConfig, {
    clock,
    log,
    commands: agent.commands,
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
            probes: [eventLoop, new SchedulerProbe(clock, () => agent.schedulerStats())],
          },
          { intervalMs: watchdogMs },
        );

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals, code: number) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without a clean stop');
      process.exit(code);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    void notifier.stopping(`stopping (${signal})`);
    watchdog?.stop();
    eventLoop.stop();
    const force = setTimeout(() => {
      log.error({ timeoutMs: STOP_TIMEOUT_MS }, 'stop timed out; exiting');
      void exitAfterFlush(log, code);
    }, STOP_TIMEOUT_MS);
    force.unref();
    try {
      await agent.stop();
      log.info('stopped');
    } catch (error) {
      log.error({ err: errorMessage(error) }, 'error while stopping');
    }
    // Last: by now the actuators are safe and the outbox flushed, and the technician is told so.
    await consoles
      .stop('edge-agent is stopping: outputs are safe; console closed')
      .catch((error: unknown) => log.error({ err: errorMessage(error) }, 'console stop failed'));
    await notifier.flush();
    await exitAfterFlush(log, code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 143));
  process.on('SIGINT', () => void shutdown('SIGINT', 130));

  log.info(
    {
      version: info.version,
      board: loaded.board.profile.id,
      config: loaded.configFile,
      stateDir: loaded.stateDir,
    },
    'edge-agent starting',
  );
  void notifier.status('starting');
  try {
    await agent.start();
  } catch (error) {
    log.fatal({ err: errorMessage(error) }, 'start failed');
    await agent.stop().catch(() => undefined);
    return exitAfterFlush(log, 1);
  }
  // A console that cannot listen (a serial port that is not there) does not stop the control loops.
  await consoles
    .start()
    .catch((error: unknown) => log.error({ err: errorMessage(error) }, 'console start failed'));
  const sensors = agent.devices
    .flatMap((d) => d.pointNames())
    .filter((name) => agent.points.get(name)?.writable === false)
    .sort();
  log.info({ devices: loaded.board.devices.length, sensors }, 'edge-agent running');
  if (watchdog) {
    eventLoop.start();
    watchdog.start();
  }
  void notifier.ready(`running: ${agent.devices.length} devices, ${agent.loops.names().length} loops`);
  // Signals end the process; until then the event loop is kept alive by timers and handles.
  return new Promise<never>(() => undefined);
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
