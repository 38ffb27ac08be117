/**
 * The part of the agent that keeps the gateway useful on its own: the point table, the buses, a
 * supervisor per device, and local control (alarms, loops, rules and interlocks on one scheduler).
 * main.ts builds and starts it before it loads anything else, so sensors are read and loops run
 * while telemetry, updates, attestation and the console are still being imported; build-agent.ts
 * adds those around it. Building is asynchronous only because a `backend: sim` board imports the
 * simulated world then (hal/create-buses.ts); a real board never loads it. No I/O until `start()`;
 * the process is never touched.
 */
import path from 'node:path';
import { AGENT_CODE_DIR } from './code-dir.js';
import type { LoadedConfig } from './config/load-config.js';
import { readRuleSet } from './config/rule-set-file.js';
import { AlarmManager } from './control/alarms.js';
import { checkRules } from './control/check-rules.js';
import { ControlLoop } from './control/loop.js';
import { Loops } from './control/loop-registry.js';
import { checkLoops } from './control/loop-schema.js';
import { RuleEngine } from './control/rule-engine.js';
import { RuleSetComponent } from './control/rule-set-component.js';
import { Scheduler, type TaskStats } from './control/scheduler.js';
import type { Clock } from './core/clock.js';
import { ConfigError, errorMessage } from './core/errors.js';
import { hostPaths } from './core/host-paths.js';
import type { Logger } from './core/log.js';
import { logPointChanges } from './core/log-point-changes.js';
import { type PointSnapshot, PointTable } from './core/points.js';
import { createBuses } from './hal/create-buses.js';
import { DeviceSupervisor } from './hal/device-supervisor.js';
import type { SimWorld } from './hal/sim/world.js';
import { checkInference, type ModelConfig } from './infer/infer-schema.js';
import { InferenceEngine } from './infer/inference-engine.js';
import { OnnxRunner } from './infer/onnx-runner.js';
import { liveSlotDir } from './ota/live-slot-dir.js';
import { ReportingFilters } from './telemetry/reporting-filters.js';
import { declareTelemetryMetrics } from './telemetry/telemetry-metrics.js';

export interface LocalAgent {
  readonly points: PointTable;
  readonly devices: readonly DeviceSupervisor[];
  /** The simulated world on a `backend: sim` board (its device side), else undefined. */
  readonly world: SimWorld | undefined;
  readonly alarms: AlarmManager;
  readonly loops: Loops;
  readonly rules: RuleEngine;
  /** Rule sets delivered as `kind: rules` OTA components (build-agent.ts loads and binds them). */
  readonly ruleSets: readonly RuleSetComponent[];
  /** Local inference (undefined when `inference.models` is empty: the ONNX runtime is never loaded). */
  readonly inference: InferenceEngine | undefined;
  /** The control scheduler's task counters (the systemd watchdog's health probe reads them). */
  schedulerStats(): readonly TaskStats[];
  /** Opens the buses and devices, starts the loops and the scheduler. Once; later calls wait for it. */
  start(): Promise<void>;
  /** Stops control, then puts every output in its safe state and closes the buses. Once. */
  stop(): Promise<void>;
}

/**
 * Builds devices and control from a loaded configuration. Throws a ConfigError (with lines) when a
 * loop or rule names a point that is not there or not writable.
 */
export async function buildLocal(
  loaded: LoadedConfig,
  deps: {
    clock: Clock;
    log: Logger;
    /** Where the built worker modules are (default: code-dir.ts's; tests under vitest give dist/agent/). */
    codeDir?: URL | undefined;
    /** The booted slot directory of an OTA component (for a model with `component:`). */
    componentDir?: ((component: string) => Promise<string>) | undefined;
  },
): Promise<LocalAgent> {
  const { clock, log } = deps;
  const points = new PointTable({
    clock,
    onListenerError: (err, point) => log.error({ point, err: errorMessage(err) }, 'point listener failed'),
  });
  const { profile } = loaded.board;
  const { devices, sim } = loaded;
  const hal = await createBuses(
    {
      backend: profile.backend,
      gpioBackend: profile.gpio?.backend,
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
  const supervisors = devices.map(
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
  // Before the control layer, so rules may watch telemetry.* (e.g. an alarm on telemetry.oldestAgeS).
  if (loaded.config.telemetry.enabled) declareTelemetryMetrics(points);
  const codeDir = deps.codeDir ?? AGENT_CODE_DIR;
  const baseDir = loaded.configFile ? path.dirname(loaded.configFile) : process.cwd();
  const componentDir =
    deps.componentDir ??
    ((c: string) => liveSlotDir(loaded.config.ota, { stateDir: loaded.stateDir, baseDir }, c));
  const control = buildControl(loaded, { clock, log, points, codeDir, componentDir });

  const stops: (() => void)[] = [];
  let started: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;
  return {
    points,
    devices: supervisors,
    world: hal.world,
    alarms: control.alarms,
    loops: control.loops,
    rules: control.rules,
    ruleSets: control.ruleSets,
    inference: control.inference,
    schedulerStats: () => control.scheduler.stats(),
    start() {
      started ??= (async () => {
        // A device's reading logs at info when it crosses its telemetry reporting filter; readings
        // within it, loop outputs and counters at debug (core/log-point-changes.ts). So do a loop's
        // writes to its output relay: it switches every few seconds (time-proportioning), and the
        // loop's own state changes are logged; a technician's or an interlock's write still shows.
        const devicePoints = new Set(supervisors.flatMap((s) => s.pointNames()));
        const reporting = new ReportingFilters(loaded.config.telemetry);
        const isReported = (p: PointSnapshot) =>
          devicePoints.has(p.name) && reporting.crosses(p) && !p.source?.startsWith('loop:');
        stops.push(logPointChanges(points, log.child({ mod: 'points' }), isReported));
        const sweep = clock.setInterval(() => points.sweepStale(), loaded.config.points.staleCheckMs);
        stops.push(() => sweep.cancel());
        await hal.start();
        for (const s of supervisors) s.start();
        // The runtime's binding is loaded here, before the loops run; the models then load in the
        // worker in the background: control does not wait for them.
        await control.inference?.start();
        await Promise.all(control.loops.all().map((l) => l.start()));
        control.scheduler.start();
      })();
      return started;
    },
    stop() {
      stopped ??= (async () => {
        await started?.catch(() => undefined);
        await control.inference?.stop();
        await control.scheduler.stop();
        await Promise.all(control.loops.all().map((l) => l.stop()));
        // Whatever else fails during shutdown, outputs end in their safe state.
        await Promise.all(supervisors.map((s) => s.stop()));
        await hal.stop();
        for (const stop of stops.splice(0)) stop();
      })();
      return stopped;
    },
  };
}

/**
 * Alarms, loops, rules and interlocks on one scheduler. Rules are evaluated on their own task, which
 * the scheduler runs before the loops due at the same instant (tasks are added in that order), so an
 * interlock's force is in place before a loop writes its output.
 */
function buildControl(
  loaded: LoadedConfig,
  deps: {
    clock: Clock;
    log: Logger;
    points: PointTable;
    codeDir: URL;
    componentDir: ((component: string) => Promise<string>) | undefined;
  },
) {
  const { clock, points, codeDir } = deps;
  const log = deps.log.child({ mod: 'control' });
  const alarms = new AlarmManager({ clock });
  alarms.on('alarm', (e) =>
    log.warn({ alarm: e.id, state: e.state, severity: e.severity, message: e.message }, 'alarm'),
  );
  const loopDeps = { clock, log, points, alarms, codeDir };
  const loops = new Loops(loaded.config.loops.map((c) => new ControlLoop(loopDeps, c)));
  const pointInfo = (name: string) => ({
    exists: points.has(name),
    writable: points.get(name)?.writable ?? false,
  });
  const loopIssues = checkLoops(loaded.config.loops, pointInfo);
  if (loopIssues.length === 0) for (const loop of loops.all()) loop.declarePoints();
  // Models read devices' and loops' points; rules may read the models' outputs.
  const inference = buildInference(loaded, { ...deps, alarms });
  const inferenceIssues = checkInference(loaded.config.inference.models, {
    exists: (name) => points.has(name),
    components:
      loaded.config.ota &&
      Object.fromEntries(Object.entries(loaded.config.ota.components).map(([name, c]) => [name, c.kind])),
  });
  if (inferenceIssues.length === 0) inference?.declarePoints();
  const issues = [
    ...loopIssues,
    ...inferenceIssues,
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
  const periodMs = loaded.config.control.rulesPeriodMs;
  if (loaded.config.rules.length > 0) scheduler.add({ name: 'rules', periodMs, run: () => rules.evaluate() });
  // Rule sets from the fleet (`kind: rules` OTA components), each on its own task after agent.yaml's.
  const reservedRules = new Set(loaded.config.rules.map((r) => r.name));
  const ruleSets = Object.entries(loaded.config.ota?.components ?? {})
    .filter(([, c]) => c.kind === 'rules')
    .map(([name]) => {
      const set = new RuleSetComponent(
        {
          clock,
          points,
          loops,
          alarms,
          log,
          read: (dir) => readRuleSet(name, dir, { points: pointInfo, loops: loops.names(), reservedRules }),
        },
        name,
      );
      scheduler.add({ name: `rules.${name}`, periodMs, run: () => set.evaluate() });
      return set;
    });
  for (const loop of loops.all()) for (const task of loop.tasks()) scheduler.add(task);
  return { alarms, loops, rules, ruleSets, scheduler, inference };
}

/**
 * The inference engine and its ONNX runner, when models are configured. Nothing is imported or started
 * here: the runner's worker (which imports `onnxruntime-node`) starts with the first model load.
 */
function buildInference(
  loaded: LoadedConfig,
  deps: {
    clock: Clock;
    log: Logger;
    points: PointTable;
    alarms: AlarmManager;
    codeDir: URL;
    componentDir: ((component: string) => Promise<string>) | undefined;
  },
): InferenceEngine | undefined {
  const models = loaded.config.inference.models;
  if (models.length === 0) return undefined;
  const log = deps.log.child({ mod: 'infer' });
  const baseDir = loaded.configFile ? path.dirname(loaded.configFile) : process.cwd();
  const runner = new OnnxRunner(
    { clock: deps.clock, log },
    { workerEntry: new URL('infer/onnx-worker-main.js', deps.codeDir) },
  );
  const modelFile = async (model: ModelConfig): Promise<string> => {
    if (model.file !== undefined) return path.resolve(baseDir, model.file);
    const component = model.component ?? '';
    if (!deps.componentDir) {
      throw new Error(`component ${component}: no OTA slot directory is known to the agent for it`);
    }
    return path.join(await deps.componentDir(component), 'model.onnx');
  };
  return new InferenceEngine(
    { clock: deps.clock, log, points: deps.points, alarms: deps.alarms, runner, modelFile },
    models,
  );
}
