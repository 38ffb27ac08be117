/**
 * The wiring of a running agent: every object built from the loaded configuration and connected
 * through narrow `deps` — around the local part (devices and control, build-local.ts): telemetry
 * and the link, the fleet channel, attestation, OTA and the command registry. It does no I/O until
 * `start()` and never touches the process; main.ts (the entry) does that, and tests build agents
 * here on a fake clock.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAttest } from './attest/create-attest.js';
import type { Attester } from './attest/evidence.js';
import type { Identity } from './attest/identity.js';
import { registerIdentityCommand } from './attest/identity-command.js';
import { createBatchSigner, signingTelemetryLink } from './attest/sign-batch.js';
import { buildLocal, type LocalAgent } from './build-local.js';
import { AGENT_CODE_DIR } from './code-dir.js';
import { registerControlCommands } from './commands/control-commands.js';
import { registerCoreCommands } from './commands/core-commands.js';
import { registerInferenceCommands } from './commands/inference-commands.js';
import { registerOtaCommands } from './commands/ota-commands.js';
import { CommandRegistry } from './commands/registry.js';
import { registerStatusCommand } from './commands/status-command.js';
import { registerTelemetryCommands } from './commands/telemetry-commands.js';
import type { LoadedConfig } from './config/load-config.js';
import type { AlarmManager } from './control/alarms.js';
import type { Loops } from './control/loop-registry.js';
import type { TaskStats } from './control/scheduler.js';
import type { Clock } from './core/clock.js';
import type { Logger } from './core/log.js';
import { packageInfo } from './core/package-info.js';
import type { PointTable } from './core/points.js';
import { inStep } from './core/startup-error.js';
import type { DeviceSupervisor } from './hal/device-supervisor.js';
import type { SimWorld } from './hal/sim/world.js';
import type { InferenceEngine } from './infer/inference-engine.js';
import { CommandChannel, replayFileIn } from './link/command-channel.js';
import { fleetTrustLoader } from './link/fleet-trust.js';
import { MqttLink } from './link/mqtt-link.js';
import type { Link } from './link/types.js';
import { createOta } from './ota/create-ota.js';
import { minorGcHint } from './ota/gc-hint.js';
import { createHawkbit } from './ota/hawkbit/create-hawkbit.js';
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
  /** Local inference (undefined without `inference.models`). */
  readonly inference: InferenceEngine | undefined;
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

/**
 * Builds the whole agent from a loaded configuration. Does no I/O until `start()`. With `local`, that
 * already built (and perhaps started) local part is used; otherwise one is built here (which on a
 * simulated board imports the simulated world: the one reason this is asynchronous).
 */
export async function buildAgent(
  loaded: LoadedConfig,
  deps: {
    clock: Clock;
    log: Logger;
    identity?: Identity | undefined;
    local?: LocalAgent | undefined;
    /** Where the built worker modules are (default: code-dir.ts's; tests under vitest give dist/agent/). */
    codeDir?: URL | undefined;
  },
): Promise<Agent> {
  const { clock, log, identity } = deps;
  const local = deps.local ?? (await buildLocal(loaded, { clock, log, codeDir: deps.codeDir }));
  const { points, devices: supervisors } = local;
  const profile = loaded.board.profile;

  const deviceId = identity?.deviceId ?? loaded.config.deviceId ?? defaultDeviceId();
  const link = buildLink(loaded, deviceId, { clock, log }, () => ({
    boot: telemetry?.bootId ?? '',
    version: packageInfo().version,
  }));
  // With identity.signTelemetry, telemetry and event batches leave as COSE_Sign1 by the device key
  // (attest/sign-batch.ts).
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
  const commands = new CommandRegistry();
  registerCoreCommands(commands, { points, devices: supervisors, clock });
  const rules = { status: () => [...local.rules.status(), ...local.ruleSets.flatMap((set) => set.status())] };
  registerControlCommands(commands, { loops: local.loops, alarms: local.alarms, rules, points });
  if (telemetry) registerTelemetryCommands(commands, { telemetry });
  if (local.inference) registerInferenceCommands(commands, { inference: local.inference });
  const hawkbitParts = loaded.config.ota?.hawkbit
    ? createHawkbit(loaded.config.ota.hawkbit, {
        clock,
        log,
        otaStateDir: path.join(loaded.stateDir, 'ota'),
        deviceId,
        board: profile.id,
        version: packageInfo().version,
        tlsFiles: linkTlsFiles(loaded),
      })
    : undefined;
  const ota = loaded.config.ota
    ? createOta(loaded.config.ota, {
        hawkbit: hawkbitParts,
        clock,
        log,
        stateDir: loaded.stateDir,
        baseDir: loaded.configFile ? path.dirname(loaded.configFile) : process.cwd(),
        board: profile.id,
        collectGarbage: minorGcHint(),
        codeDir: deps.codeDir ?? AGENT_CODE_DIR,
        probes: {
          pointQuality: (name) => points.get(name)?.quality,
          loopsRunning: () => {
            const idle = local.schedulerStats().filter((t) => t.ticks === 0);
            return idle.length === 0 || `not yet running: ${idle.map((t) => t.name).join(', ')}`;
          },
        },
      })
    : undefined;
  for (const set of local.ruleSets) ota?.bindLive(set.name, set);
  // A model component is switched by the inference engine, for the model that names it.
  for (const model of loaded.config.inference.models) {
    const engine = local.inference;
    if (!ota || !engine || model.component === undefined) continue;
    ota.bindLive(model.component, { activate: (dir, options) => engine.activate(model.name, dir, options) });
  }
  const hawkbit = ota && hawkbitParts ? hawkbitParts.client(ota) : undefined;
  if (ota) registerOtaCommands(commands, { ota, hawkbit });
  registerStatusCommand(commands, {
    clock,
    version: packageInfo().version,
    devices: supervisors,
    board: profile.id,
    deviceId,
    alarms: local.alarms,
    link,
    ota,
  });
  if (identity) registerIdentityCommand(commands, identity);
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
      // The effective configuration: the devices (and plant) of the wiring files count as agent.yaml's.
      config: {
        ...loaded.config,
        devices: loaded.devices.map((d) => d.entry),
        ...(loaded.sim ? { sim: loaded.sim } : {}),
      },
      attest: loaded.config.attest,
      boardFile: loaded.board.file,
      version: packageInfo().version,
      ota,
      otaComponents: Object.keys(loaded.config.ota?.components ?? {}),
      bootIdFile: loaded.config.ota?.bootInfo.bootId,
      codeDir: AGENT_CODE_DIR,
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
  local.alarms.on('alarm', (e) =>
    telemetry?.recordEvent('alarm', {
      id: e.id,
      state: e.state,
      previousState: e.previousState,
      severity: e.severity,
      message: e.message,
      source: e.source,
    }),
  );

  return {
    points,
    devices: supervisors,
    world: local.world,
    commands,
    alarms: local.alarms,
    loops: local.loops,
    inference: local.inference,
    telemetry,
    link,
    ota,
    identity,
    attester: attest?.attester,
    fleet,
    schedulerStats: () => local.schedulerStats(),
    async start() {
      await inStep(
        { step: 'state', what: 'use the state directory', path: loaded.stateDir, setting: 'stateDir' },
        () => mkdir(loaded.stateDir, { recursive: true }),
      );
      // Local control first: the telemetry database opens (and scans its backlog) while the
      // devices open and the loops start, rather than before them.
      const telemetryStarted = telemetry
        ? inStep(
            {
              step: 'telemetry',
              what: 'open the telemetry store',
              path: telemetry.dir,
              setting: 'telemetry.dir',
            },
            () => telemetry.start(),
          ).then(
            () => undefined,
            (error: unknown) => error,
          )
        : undefined;
      for (const set of local.ruleSets) {
        const dir = await ota?.liveSlotDir(set.name);
        if (dir) await set.load(dir);
      }
      await inStep({ step: 'devices', what: 'start the devices and local control' }, () => local.start());
      const telemetryError = await telemetryStarted;
      if (telemetryError) throw telemetryError;
      // Subscribed before the link connects, so the first session already listens for commands.
      await inStep(
        { step: 'fleet', what: 'open the fleet command replay cache', path: replayFileIn(loaded.stateDir) },
        () => fleet?.start(),
      );
      if (identity && link && !fleet)
        log.warn('fleet commands disabled: no trust root (fleet.trust or ota.trust)');
      link?.start();
      // Resumes an install; after a trial boot, runs the health checks and commits or rolls back.
      await inStep(
        { step: 'ota', what: 'resume updates from', path: path.join(loaded.stateDir, 'ota') },
        () => ota?.start(),
      );
      otaReporter?.start();
      if (hawkbit && hawkbitParts) {
        await inStep({ step: 'hawkbit', what: 'read the TLS files (link.tls) for hawkBit' }, () =>
          hawkbitParts.http.load(),
        );
        await inStep(
          {
            step: 'hawkbit',
            what: 'open the hawkBit state in',
            path: path.join(loaded.stateDir, 'ota', 'hawkbit'),
          },
          () => hawkbit.start(),
        );
      }
      // Measures the running software in the background (and extends the TPM PCR) for evidence.
      attest?.start();
    },
    async stop() {
      await hawkbit?.stop();
      otaReporter?.stop();
      await ota?.stop();
      // Control, then every output to its safe state, then the buses.
      await local.stop();
      // After the outputs (their safe states are readings too): the outbox's final group commit.
      await telemetry?.stop();
      await fleet?.stop();
      await link?.stop();
      await identity?.close();
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
      sessionExpiryS: c.sessionExpiryS,
      connectTimeoutMs: c.connectTimeoutMs,
      backoff: c.backoff,
      status,
      // Fleet commands are all the broker sends us.
      maxIncomingPayloadBytes: loaded.config.fleet.maxCommandBytes,
    },
  );
}

/** `link.tls`'s PEM files, resolved against the configuration file (hawkBit's mTLS uses them too). */
function linkTlsFiles(loaded: LoadedConfig): {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
} {
  const base = loaded.configFile ? path.dirname(loaded.configFile) : process.cwd();
  const file = (p: string | undefined) => (p === undefined ? undefined : path.resolve(base, p));
  const { ca, cert, key } = loaded.config.link.tls;
  return { ca: file(ca), cert: file(cert), key: file(key) };
}

/** Without an identity (tests that build an agent directly): the host name, in the device-id alphabet. */
function defaultDeviceId(): string {
  const name = os
    .hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 64);
  return name || 'edge-agent';
}
