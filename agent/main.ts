/**
 * The composition root: the only place that builds objects, wires them together and touches the
 * process (signals, exit codes). Everything below receives what it needs through narrow `deps`.
 *
 * Exit codes: 0 normal, 78 (EX_CONFIG) for a configuration mistake, 1 for a fatal error,
 * 130 after SIGINT and 143 after SIGTERM (the unit sets SuccessExitStatus=143).
 */
import path from 'node:path';
import { registerControlCommands } from './commands/control-commands.js';
import { registerCoreCommands } from './commands/core-commands.js';
import { CommandRegistry } from './commands/registry.js';
import { type LoadedConfig, loadConfig } from './config/load-config.js';
import { AlarmManager } from './control/alarms.js';
import { ControlLoop } from './control/loop.js';
import { Loops } from './control/loop-registry.js';
import { checkLoops } from './control/loop-schema.js';
import { checkRules, RuleEngine } from './control/rules.js';
import { Scheduler } from './control/scheduler.js';
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
import type { SimWorld } from './hal/sim/world.js';

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
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the whole agent from a loaded configuration. Does no I/O until `start()`. */
export function buildAgent(loaded: LoadedConfig, deps: { clock: Clock; log: Logger }): Agent {
  const { clock, log } = deps;
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

  const control = buildControl(loaded, { clock, log, points });
  const commands = new CommandRegistry();
  registerCoreCommands(commands, { points, devices: supervisors, clock, version: packageInfo().version });
  registerControlCommands(commands, {
    loops: control.loops,
    alarms: control.alarms,
    rules: control.rules,
    points,
  });

  const stops: (() => void)[] = [];
  return {
    points,
    devices: supervisors,
    world: hal.world,
    commands,
    alarms: control.alarms,
    loops: control.loops,
    async start() {
      const devicePoints = new Set(supervisors.flatMap((s) => s.pointNames()));
      stops.push(logPointChanges(points, log.child({ mod: 'points' }), (p) => devicePoints.has(p.name)));
      const sweep = clock.setInterval(() => points.sweepStale(), loaded.config.points.staleCheckMs);
      stops.push(() => sweep.cancel());
      await hal.start();
      for (const s of supervisors) s.start();
      await Promise.all(control.loops.all().map((l) => l.start()));
      control.scheduler.start();
    },
    async stop() {
      await control.scheduler.stop();
      await Promise.all(control.loops.all().map((l) => l.stop()));
      // Actuators next: whatever else fails during shutdown, outputs end in their safe state.
      await Promise.all(supervisors.map((s) => s.stop()));
      await hal.stop();
      for (const stop of stops.splice(0)) stop();
    },
  };
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

  const format = loaded.config.log.format;
  const log = createLogger({
    level: loaded.config.log.level,
    ...(format === 'auto' ? {} : { pretty: format === 'pretty' }),
  });
  const clock = new SystemClock();
  let agent: Agent;
  try {
    agent = buildAgent(loaded, { clock, log });
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`edge-agent: configuration error\n${error.message}\n`);
      return process.exit(EXIT_CONFIG);
    }
    throw error;
  }

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals, code: number) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without a clean stop');
      process.exit(code);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
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
  try {
    await agent.start();
  } catch (error) {
    log.fatal({ err: errorMessage(error) }, 'start failed');
    await agent.stop().catch(() => undefined);
    return exitAfterFlush(log, 1);
  }
  const sensors = agent.devices
    .flatMap((d) => d.pointNames())
    .filter((name) => agent.points.get(name)?.writable === false)
    .sort();
  log.info({ devices: loaded.board.devices.length, sensors }, 'edge-agent running');
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
