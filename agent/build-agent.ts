/**
 * The wiring of a running agent: every object built from the loaded configuration and connected
 * through narrow `deps` — buses and devices, control, telemetry and the link, the fleet channel,
 * attestation, OTA and the command registry. It does no I/O until `start()` and never touches the
 * process; main.ts (the entry) does that, and tests build agents here on a fake clock.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAttest } from './attest/create-attest.js';
import type { Attester } from './attest/evidence.js';
import type { Identity } from './attest/identity.js';
import { createBatchSigner, signingTelemetryLink } from './attest/sign-batch.js';
import { registerControlCommands } from './commands/control-commands.js';
import { registerCoreCommands } from './commands/core-commands.js';
import { registerOtaCommands } from './commands/ota-commands.js';
import { CommandRegistry } from './commands/registry.js';
import { registerTelemetryCommands } from './commands/telemetry-commands.js';
import type { LoadedConfig } from './config/load-config.js';
import { AlarmManager } from './control/alarms.js';
import { ControlLoop } from './control/loop.js';
import { Loops } from './control/loop-registry.js';
import { checkLoops } from './control/loop-schema.js';
import { checkRules, RuleEngine } from './control/rules.js';
import { Scheduler, type TaskStats } from './control/scheduler.js';
import type { Clock } from './core/clock.js';
import { ConfigError, errorMessage } from './core/errors.js';
import { hostPaths } from './core/host-paths.js';
import type { Logger } from './core/log.js';
import { logPointChanges } from './core/log-point-changes.js';
import { packageInfo } from './core/package-info.js';
import { PointTable } from './core/points.js';
import { createBuses } from './hal/create-buses.js';
import { DeviceSupervisor } from './hal/device-supervisor.js';
import type { SimWorld } from './hal/sim/world.js';
import { CommandChannel, replayFileIn } from './link/command-channel.js';
import { fleetTrustLoader } from './link/fleet-trust.js';
import { MqttLink } from './link/mqtt-link.js';
import type { Link } from './link/types.js';
import { createOta } from './ota/create-ota.js';
import { minorGcHint } from './ota/gc-hint.js';
import type { OtaManager } from './ota/ota-manager.js';
import { OtaReporter } from './ota/ota-reporter.js';
import { TelemetryService } from './telemetry/telemetry-service.js';

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
