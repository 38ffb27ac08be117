/**
 * The composition root: the only place that builds objects, wires them together and touches the
 * process (signals, exit codes). Everything below receives what it needs through narrow `deps`.
 *
 * Exit codes: 0 normal, 78 (EX_CONFIG) for a configuration mistake, 1 for a fatal error,
 * 130 after SIGINT and 143 after SIGTERM (the unit sets SuccessExitStatus=143).
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { identitySettingsFrom } from './attest/attest-schema.js';
import { createAttest } from './attest/create-attest.js';
import { isIdentityError } from './attest/errors.js';
import type { Attester } from './attest/evidence.js';
import { type Identity, loadIdentity } from './attest/identity.js';
import { createBatchSigner, signingTelemetryLink } from './attest/sign-batch.js';
import { registerControlCommands } from './commands/control-commands.js';
import { registerCoreCommands } from './commands/core-commands.js';
import { registerOtaCommands } from './commands/ota-commands.js';
import { CommandRegistry } from './commands/registry.js';
import { registerTelemetryCommands } from './commands/telemetry-commands.js';
import { type LoadedConfig, loadConfig } from './config/load-config.js';
import { createConsole } from './console/create-console.js';
import { LogRing } from './console/log-ring.js';
import { StdioConsole } from './console/stdio-console.js';
import { AlarmManager } from './control/alarms.js';
import { ControlLoop } from './control/loop.js';
import { Loops } from './control/loop-registry.js';
import { checkLoops } from './control/loop-schema.js';
import { checkRules, RuleEngine } from './control/rules.js';
import { Scheduler, type TaskStats } from './control/scheduler.js';
import { type Clock, SystemClock } from './core/clock.js';
import { ConfigError, errorMessage, isConfigError } from './core/errors.js';
import { hostPaths } from './core/host-paths.js';
import { createLogger, type Logger } from './core/log.js';
import { logPointChanges } from './core/log-point-changes.js';
import { packageInfo } from './core/package-info.js';
import { PointTable } from './core/points.js';
import { createBuses } from './hal/create-buses.js';
import { DeviceSupervisor } from './hal/device-supervisor.js';
import { DRIVERS } from './hal/drivers/registry.js';
import { LinuxSerial } from './hal/serial/linux.js';
import type { SimWorld } from './hal/sim/world.js';
import { CommandChannel, replayFileIn } from './link/command-channel.js';
import { fleetTrustLoader } from './link/fleet-trust.js';
import { MqttLink } from './link/mqtt-link.js';
import type { Link } from './link/types.js';
import { createOta } from './ota/create-ota.js';
import { minorGcHint } from './ota/gc-hint.js';
import type { OtaManager } from './ota/ota-manager.js';
import { OtaReporter } from './ota/ota-reporter.js';
import { EventLoopProbe, SchedulerProbe } from './service/health-probes.js';
import { SystemdNotifier } from './service/notify.js';
import { registerRebootCommand } from './service/reboot-command.js';
import { ServiceWatchdog } from './service/watchdog.js';
import { TelemetryService } from './telemetry/telemetry-service.js';

export const EXIT_CONFIG = 78;
const STOP_TIMEOUT_MS = 10_000;

export interface RunOptions {
  readonly configFile?: string | undefined;
  readonly boardFile?: string | undefined;
}

export interface Agent {
  readonly points: PointTable;
  readonly devices: readonly DeviceSupervisor[];
  /** The simulated world on a `backend: sim` board (its device side), else undefined. */
  readonly world: SimWorld | undefined;
  /** The command registry the console and the fleet channel call. */
  readonly commands: CommandRegistry;
  readonly alarms: AlarmManager;
  readonly loops: Loops;
  /** Telemetry (undefined when `telemetry.enabled` is false). */
  readonly telemetry: TelemetryService | undefined;
  /** The MQTT session shared by telemetry, commands and OTA (undefined without `link.url`). */
  readonly link: Link | undefined;
  /** A/B updates (undefined without an `ota:` section). */
  readonly ota: OtaManager | undefined;
  /** The device identity (undefined when built without one, as some tests do). */
  readonly identity: Identity | undefined;
  /** Attestation evidence (with an identity). */
  readonly attester: Attester | undefined;
  /** Signed fleet commands on `<prefix>/<id>/cmd` (with an identity, a link and a trust root). */
  readonly fleet: CommandChannel | undefined;
  /** The control scheduler's task counters (the systemd watchdog's health probe reads them). */
  schedulerStats(): readonly TaskStats[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the whole agent from a loaded configuration. Does no I/O until `start()`. */
export function buildAgent(
  loaded: LoadedConfig,
  deps: { clock: Clock; log: Logger; identity?: Identity | undefined },
): Agent {
  const { clock, log, identity } = deps;
  const points = new PointTable({
    clock,
    onListenerError: (err, point) => log.error({ point, err: errorMessage(err) }, 'point listener failed'),
  });
  const { profile, devices, sim } = loaded.board;
  const hal = createBuses(
    {
      backend: profile.backend,
      bleAdapter: profile.ble?.adapter,
      sim: sim && {
        gpioChips: profile.gpio?.chips ?? [],
        i2cBuses: profile.i2c?.buses ?? [],
        devices: devices.map((d) => ({ id: d.entry.id, driver: d.entry.driver, options: d.options })),
        params: sim,
      },
    },
    { clock, log, paths: hostPaths() },
  );
  const supervisors = loaded.board.devices.map(
    ({ entry, factory, options }) =>
      new DeviceSupervisor(
        { clock, points, log: log.child({ mod: 'device' }) },
        {
          id: entry.id,
          device: factory.create(options, hal.buses),
          pointNames: entry.points,
          pollMs: entry.pollMs,
          faultAfter: entry.faultAfter,
        },
      ),
  );
  for (const s of supervisors) s.declarePoints();

  const deviceId = identity?.deviceId ?? loaded.config.deviceId ?? defaultDeviceId();
  const link = buildLink(loaded, deviceId, { clock, log }, () => ({
    boot: telemetry?.bootId ?? '',
    version: packageInfo().version,
  }));
  // With identity.signTelemetry, batches leave as COSE_Sign1 by the device key (attest/sign-batch.ts).
  const telemetryLink =
    link && identity && loaded.config.identity.signTelemetry
      ? signingTelemetryLink(link, createBatchSigner(identity.signer))
      : link;
  const telemetry = loaded.config.telemetry.enabled
    ? new TelemetryService(
        { clock, log: log.child({ mod: 'telemetry' }), points, link: telemetryLink },
        { config: loaded.config.telemetry, stateDir: loaded.stateDir },
      )
    : undefined;
  // Before the control layer, so rules may watch telemetry.* (e.g. an alarm on telemetry.oldestAgeS).
  telemetry?.declarePoints();

  const control = buildControl(loaded, { clock, log, points });
  const commands = new CommandRegistry();
  registerCoreCommands(commands, { points, devices: supervisors, clock, version: packageInfo().version });
  registerControlCommands(commands, {
    loops: control.loops,
    alarms: control.alarms,
    rules: control.rules,
    points,
  });
  if (telemetry) registerTelemetryCommands(commands, { telemetry });
  const ota = loaded.config.ota
    ? createOta(loaded.config.ota, {
        clock,
        log,
        stateDir: loaded.stateDir,
        baseDir: loaded.configFile ? path.dirname(loaded.configFile) : process.cwd(),
        board: profile.id,
        collectGarbage: minorGcHint(),
        probes: {
          pointQuality: (name) => points.get(name)?.quality,
          loopsRunning: () => {
            const idle = control.scheduler.stats().filter((t) => t.ticks === 0);
            return idle.length === 0 || `not yet running: ${idle.map((t) => t.name).join(', ')}`;
          },
        },
      })
    : undefined;
  if (ota) registerOtaCommands(commands, { ota });
  const otaReporter =
    ota && link ? new OtaReporter({ clock, log: log.child({ mod: 'ota' }), link, ota }) : undefined;
  const baseDir = loaded.configFile ? path.dirname(loaded.configFile) : process.cwd();
  const attest =
    identity &&
    createAttest({
      clock,
      log,
      identity,
      commands,
      stateDir: loaded.stateDir,
      baseDir,
      config: loaded.config,
      attest: loaded.config.attest,
      boardFile: loaded.board.file,
      version: packageInfo().version,
      ota,
      otaComponents: Object.keys(loaded.config.ota?.components ?? {}),
      bootIdFile: loaded.config.ota?.bootInfo.bootId,
    });
  const trustSpec = loaded.config.fleet.trust ?? loaded.config.ota?.trust;
  const f = loaded.config.fleet;
  const fleet =
    identity && link && trustSpec
      ? new CommandChannel(
          {
            link,
            registry: commands,
            signer: identity.signer,
            clock,
            log,
            trust: fleetTrustLoader(trustSpec, baseDir),
            isClockTrusted: () => telemetry?.status().clockTrusted ?? true,
          },
          {
            replayFile: replayFileIn(loaded.stateDir),
            replayCapacity: f.replayCacheEntries,
            skewMs: f.clockSkewMs,
            maxTtlS: f.maxTtlS,
            maxCommandBytes: f.maxCommandBytes,
            maxQueued: f.maxQueued,
            rejectReportsPerMinute: f.rejectReportsPerMinute,
          },
        )
      : undefined;
  control.alarms.on('alarm', (e) =>
    telemetry?.recordEvent('alarm', {
      id: e.id,
      state: e.state,
      previousState: e.previousState,
      severity: e.severity,
      message: e.message,
      source: e.source,
    }),
  );

  const stops: (() => void)[] = [];
  return {
    points,
    devices: supervisors,
    world: hal.world,
    commands,
    alarms: control.alarms,
    loops: control.loops,
    telemetry,
    link,
    ota,
    identity,
    attester: attest?.attester,
    fleet,
    schedulerStats: () => control.scheduler.stats(),
    async start() {
      const devicePoints = new Set(supervisors.flatMap((s) => s.pointNames()));
      stops.push(logPointChanges(points, log.child({ mod: 'points' }), (p) => devicePoints.has(p.name)));
      const sweep = clock.setInterval(() => points.sweepStale(), loaded.config.points.staleCheckMs);
      stops.push(() => sweep.cancel());
      await mkdir(loaded.stateDir, { recursive: true });
      // Local control first: the telemetry database opens (and scans its backlog) while the
      // devices open and the loops start, rather than before them.
      const telemetryStarted = telemetry?.start().then(
        () => undefined,
        (error: unknown) => error,
      );
      await hal.start();
      for (const s of supervisors) s.start();
      await Promise.all(control.loops.all().map((l) => l.start()));
      control.scheduler.start();
      const telemetryError = await telemetryStarted;
      if (telemetryError) throw telemetryError;
      // Subscribed before the link connects, so the first session already listens for commands.
      await fleet?.start();
      if (identity && link && !fleet)
        log.warn('fleet commands disabled: no trust root (fleet.trust or ota.trust)');
      link?.start();
      // Resumes an install; after a trial boot, runs the health checks and commits or rolls back.
      await ota?.start();
      otaReporter?.start();
      // Measures the running software in the background (and extends the TPM PCR) for evidence.
      attest?.start();
    },
    async stop() {
      otaReporter?.stop();
      await ota?.stop();
      await control.scheduler.stop();
      await Promise.all(control.loops.all().map((l) => l.stop()));
      // Actuators next: whatever else fails during shutdown, outputs end in their safe state.
      await Promise.all(supervisors.map((s) => s.stop()));
      await hal.stop();
      // After the outputs (their safe states are readings too): the outbox's final group commit.
      await telemetry?.stop();
      await fleet?.stop();
      await link?.stop();
      await identity?.close();
      for (const stop of stops.splice(0)) stop();
    },
  };
}

/** The MQTT session, when the configuration names a broker. TLS paths are relative to the config file. */
function buildLink(
  loaded: LoadedConfig,
  deviceId: string,
  deps: { clock: Clock; log: Logger },
  status: () => Record<string, string>,
): MqttLink | undefined {
  const c = loaded.config.link;
  if (!c.url) return undefined;
  const base = loaded.configFile ? path.dirname(loaded.configFile) : process.cwd();
  const file = (p: string | undefined) => (p === undefined ? undefined : path.resolve(base, p));
  return new MqttLink(
    { clock: deps.clock, log: deps.log.child({ mod: 'link' }) },
    {
      url: c.url,
      deviceId,
      clientId: c.clientId,
      username: c.username,
      password: c.password,
      tls: {
        ca: file(c.tls.ca),
        cert: file(c.tls.cert),
        key: file(c.tls.key),
        rejectUnauthorized: c.tls.rejectUnauthorized,
      },
      topicPrefix: c.topicPrefix,
      keepaliveS: c.keepaliveS,
      connectTimeoutMs: c.connectTimeoutMs,
      backoff: c.backoff,
      status,
    },
  );
}

/** Without an identity (tests that build an agent directly): the host name, in the device-id alphabet. */
function defaultDeviceId(): string {
  const name = os
    .hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 64);
  return name || 'edge-agent';
}

/**
 * The control layer: alarms, loops, rules and interlocks on one scheduler. Rules are evaluated on
 * their own task, which the scheduler runs before the loops due at the same instant (tasks are added
 * in that order), so an interlock's force is in place before a loop writes its output.
 */
function buildControl(loaded: LoadedConfig, deps: { clock: Clock; log: Logger; points: PointTable }) {
  const { clock, points } = deps;
  const log = deps.log.child({ mod: 'control' });
  const alarms = new AlarmManager({ clock });
  alarms.on('alarm', (e) =>
    log.warn({ alarm: e.id, state: e.state, severity: e.severity, message: e.message }, 'alarm'),
  );
  const loops = new Loops(loaded.config.loops.map((c) => new ControlLoop({ clock, log, points, alarms }, c)));
  const pointInfo = (name: string) => ({
    exists: points.has(name),
    writable: points.get(name)?.writable ?? false,
  });
  const loopIssues = checkLoops(loaded.config.loops, pointInfo);
  if (loopIssues.length === 0) for (const loop of loops.all()) loop.declarePoints();
  const issues = [
    ...loopIssues,
    ...checkRules(loaded.config.rules, { points: pointInfo, loops: loops.names() }),
  ];
  if (issues.length > 0) {
    throw new ConfigError(
      loaded.configFile,
      issues.map((i) => ({ ...i, line: loaded.lineOf(i.path) })),
    );
  }
  const rules = new RuleEngine({ clock, points, loops, alarms, log }, loaded.config.rules);
  const scheduler = new Scheduler({ clock, log, points });
  if (loaded.config.rules.length > 0) {
    scheduler.add({
      name: 'rules',
      periodMs: loaded.config.control.rulesPeriodMs,
      run: () => rules.evaluate(),
    });
  }
  for (const loop of loops.all()) for (const task of loop.tasks()) scheduler.add(task);
  return { alarms, loops, rules, scheduler };
}

/** `edge-agent run`: load, build, start, and stop on SIGTERM/SIGINT. Never returns. */
export async function runAgent(options: RunOptions): Promise<never> {
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
