/**
 * Local inference: each configured model samples its input points every `window.sampleMs` into a
 * window of the last `window.size` samples and, every `window.everyMs` once the window is full, runs
 * on it (in the runner's worker thread) and writes its outputs as points (`model:<name>` is their
 * source), so rules alarm on them and telemetry reports them like any other point.
 *
 * Quality is the contract with the rules: an output is `good` only when it is the finite result of a
 * run on a full window of good inputs that answered within `timeoutMs`. A run that throws, gives NaN
 * or ±Infinity, or is late marks the outputs `stale` (and raises the alarm `infer.<name>` until a good
 * result clears it); an input that is not `good` marks them `stale` at once, empties the window (a
 * window with a hole is not what the model learnt) and no run happens until it has filled again. A
 * model that cannot be loaded at all — its file missing or wrong for the configuration, the ONNX
 * runtime not installed — is `faulted`: the outputs stay stale, the alarm says why, and so does the
 * `models` command.
 *
 * `activate` is the live swap the OTA layer calls with a new version's slot directory: the new model
 * is loaded beside the running one and health-checked on the current window, then the outputs come
 * from it; the old session stays loaded until the new one has given `goodOutputs` good results in a
 * row, and a failure before that switches back (the old model runs on the same window at once).
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PointTable } from '../core/points.js';
import { type ModelConfig, type ModelOutput, modelOutputs } from './infer-schema.js';
import type { LoadResult, ModelRunner, RunResult } from './onnx-runner.js';
import { SampleWindow } from './sample-window.js';

/** The alarms the engine raises (the control layer's AlarmManager). */
export interface InferenceAlarms {
  raise(alarm: { id: string; severity: 'major' | 'minor'; message: string; source: string }): void;
  clear(id: string, source: string): void;
}

export interface InferenceEngineDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly points: PointTable;
  readonly alarms: InferenceAlarms;
  readonly runner: ModelRunner;
  /**
   * The model file a model starts with: its `file` resolved against agent.yaml's directory, or
   * `model.onnx` in its component's booted slot. A rejection faults the model with its message.
   */
  modelFile(model: ModelConfig): Promise<string>;
}

export type LiveActivation =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'load-failed' | 'health-check' | 'bad-output' | 'late' | 'timeout';
      readonly message: string;
    };

export interface ActivateOptions {
  /** Good results in a row the new model must give before the old one is released. */
  readonly goodOutputs: number;
  /** From the call: the new model must be loaded, checked and have given its good results by then. */
  readonly deadlineMs: number;
  /** Aborting switches back to the old model (reason `timeout`). */
  readonly signal?: AbortSignal;
}

export type ModelState = 'loading' | 'running' | 'faulted' | 'stopped';

export interface ModelStatus {
  readonly name: string;
  readonly state: ModelState;
  /** The model file in use. */
  readonly file: string | undefined;
  /** Why the outputs are stale now (a fault, the last failed run, an input), if they are. */
  readonly lastError: string | undefined;
  readonly runs: number;
  readonly good: number;
  readonly failed: number;
  /** Windows not run because the previous run had not answered yet. */
  readonly skipped: number;
  /** The last good run's duration in the worker, ms. */
  readonly lastRunMs: number | undefined;
  /** A live swap in progress: good results still needed before the old model is released. */
  readonly activation: { readonly goodNeeded: number } | undefined;
}

type Verdict =
  | { readonly ok: true; readonly values: Readonly<Record<string, number>>; readonly elapsedMs: number }
  | { readonly ok: false; readonly reason: 'threw' | 'late' | 'bad-output'; readonly message: string };

interface Probation {
  readonly session: string;
  remaining: number;
  end(result: LiveActivation): void;
}

interface Model {
  readonly config: ModelConfig;
  readonly outputs: readonly ModelOutput[];
  readonly keys: readonly string[];
  readonly window: SampleWindow;
  readonly source: string;
  readonly alarmId: string;
  state: ModelState;
  file: string | undefined;
  /** The session whose results are the outputs. */
  active: string | undefined;
  /** The session kept during a live swap's probation. */
  previous: string | undefined;
  probation: Probation | undefined;
  activating: boolean;
  generation: number;
  /** Why the outputs are stale (undefined while they are good or not yet produced). */
  lastError: string | undefined;
  /** The input that is not good, while one is not. */
  badInput: string | undefined;
  alarmed: boolean;
  inFlight: boolean;
  runs: number;
  good: number;
  failed: number;
  skipped: number;
  lastRunMs: number | undefined;
}

export class InferenceEngine {
  readonly #deps: InferenceEngineDeps;
  readonly #models = new Map<string, Model>();
  readonly #timers: TimerHandle[] = [];
  #loads: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: InferenceEngineDeps, models: readonly ModelConfig[]) {
    this.#deps = deps;
    for (const config of models) {
      const outputs = modelOutputs(config);
      this.#models.set(config.name, {
        config,
        outputs,
        keys: outputs.map((o) => o.key),
        window: new SampleWindow(config.window.size, config.inputs.length),
        source: `model:${config.name}`,
        alarmId: `infer.${config.name}`,
        state: 'loading',
        file: undefined,
        active: undefined,
        previous: undefined,
        probation: undefined,
        activating: false,
        generation: 0,
        lastError: undefined,
        badInput: undefined,
        alarmed: false,
        inFlight: false,
        runs: 0,
        good: 0,
        failed: 0,
        skipped: 0,
        lastRunMs: undefined,
      });
    }
  }

  /** The configured model names. */
  names(): string[] {
    return [...this.#models.keys()];
  }

  /** Declares every output point (stale until the first good result). */
  declarePoints(): void {
    for (const m of this.#models.values()) {
      const { everyMs } = m.config.window;
      for (const o of m.outputs) {
        this.#deps.points.declare({
          name: o.point,
          unit: o.unit,
          // A result is due every everyMs: two missed ones (a hung engine) make the point stale.
          staleAfterMs: 2 * everyMs + m.config.timeoutMs,
          description: `output ${o.key} of inference model ${m.config.name}`,
        });
      }
    }
  }

  /**
   * Readies the runtime (its binding loaded on this thread: ~50 ms, so before the control loops
   * start), then starts sampling and running, and begins loading every model in the worker
   * (`loaded()` waits for that).
   */
  async start(): Promise<void> {
    if (this.#loads || this.#stopped) return;
    await this.#deps.runner.prepare();
    if (this.#loads || this.#stopped) return;
    const { clock } = this.#deps;
    for (const m of this.#models.values()) {
      this.#timers.push(clock.setInterval(() => this.#sample(m), m.config.window.sampleMs));
      this.#timers.push(clock.setInterval(() => void this.#runWindow(m), m.config.window.everyMs));
    }
    this.#loads = Promise.all([...this.#models.values()].map((m) => this.#loadInitial(m))).then(
      () => undefined,
    );
  }

  /** Resolves when every model's first load has succeeded or faulted. */
  loaded(): Promise<void> {
    return this.#loads ?? Promise.resolve();
  }

  status(): ModelStatus[] {
    return [...this.#models.values()].map((m) => ({
      name: m.config.name,
      state: m.state,
      file: m.file,
      lastError: m.lastError,
      runs: m.runs,
      good: m.good,
      failed: m.failed,
      skipped: m.skipped,
      lastRunMs: m.lastRunMs,
      activation: m.probation ? { goodNeeded: m.probation.remaining } : undefined,
    }));
  }

  /** Stops sampling and running, ends a live swap (switched back), and stops the runner's worker. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers.splice(0)) t.cancel();
    for (const m of this.#models.values()) {
      m.probation?.end({ ok: false, reason: 'timeout', message: 'the agent is stopping' });
      m.state = 'stopped';
    }
    await this.#loads?.catch(() => undefined);
    await this.#deps.runner.stop();
  }

  /**
   * Live swap of `model` to `<dir>/model.onnx` (see the header). Resolves when the new model is
   * committed (`ok`) or given up (`ok: false` with the reason; the old model runs on). Throws a
   * TypeError for a model that is not configured.
   */
  async activate(model: string, dir: string, opts: ActivateOptions): Promise<LiveActivation> {
    const m = this.#models.get(model);
    if (!m) throw new TypeError(`model must be a configured inference model, got ${JSON.stringify(model)}`);
    if (!(opts.goodOutputs >= 0)) throw new TypeError(`goodOutputs must be >= 0, got ${opts.goodOutputs}`);
    if (!(opts.deadlineMs > 0)) throw new TypeError(`deadlineMs must be > 0, got ${opts.deadlineMs}`);
    if (m.activating || m.probation) {
      return {
        ok: false,
        reason: 'load-failed',
        message: `model ${model}: an activation is already in progress`,
      };
    }
    if (this.#stopped) return { ok: false, reason: 'load-failed', message: 'the agent is stopping' };
    const { clock, runner, log } = this.#deps;
    const deadlineAt = clock.monotonicMs() + opts.deadlineMs;
    const file = path.join(dir, 'model.onnx');
    const session = `${model}@${++m.generation}`;
    const fail = async (reason: 'load-failed' | 'health-check', message: string): Promise<LiveActivation> => {
      await runner.unload(session);
      const text = `model ${model}: ${message}`;
      log.warn({ model, file, reason, error: message }, 'model activation refused');
      return { ok: false, reason, message: text };
    };
    m.activating = true;
    try {
      const loaded = await this.#loadChecked(m, session, file);
      if (loaded !== undefined) return await fail('load-failed', loaded);
      const window =
        m.window.full && !m.badInput
          ? m.window.snapshot()
          : new Float32Array(m.window.size * m.window.inputs);
      const health = this.#judge(
        await runner.run({
          session,
          window,
          dims: m.window.dims(),
          outputs: m.keys,
          timeoutMs: m.config.timeoutMs,
        }),
      );
      if (!health.ok)
        return await fail('health-check', `health check on the current window: ${health.message}`);
      if (opts.signal?.aborted) return await fail('load-failed', 'activation aborted');
      if (this.#stopped) return await fail('load-failed', 'the agent is stopping');
      if (clock.monotonicMs() >= deadlineAt) {
        await runner.unload(session);
        return { ok: false, reason: 'timeout', message: `model ${model}: deadline passed while loading` };
      }
      // The switch: from the next window on, the outputs are the new model's.
      m.previous = m.active;
      m.active = session;
      m.file = file;
      m.state = 'running';
      log.info({ model, file, goodOutputs: opts.goodOutputs }, 'model switched; old one kept until proven');
      if (opts.goodOutputs === 0) {
        await this.#release(m);
        return { ok: true };
      }
      return await new Promise<LiveActivation>((resolve) => {
        const onAbort = () =>
          this.#revert(m, { ok: false, reason: 'timeout', message: `model ${model}: activation aborted` });
        const timer = clock.setTimeout(
          () =>
            this.#revert(m, {
              ok: false,
              reason: 'timeout',
              message: `model ${model}: ${opts.goodOutputs} good results in a row not reached within ${opts.deadlineMs} ms`,
            }),
          deadlineAt - clock.monotonicMs(),
        );
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        m.probation = {
          session,
          remaining: opts.goodOutputs,
          end: (result) => {
            timer.cancel();
            opts.signal?.removeEventListener('abort', onAbort);
            m.probation = undefined;
            resolve(result);
          },
        };
      });
    } finally {
      m.activating = false;
    }
  }

  async #loadInitial(m: Model): Promise<void> {
    let file: string;
    try {
      file = await this.#deps.modelFile(m.config);
    } catch (error) {
      return this.#fault(m, errorMessage(error));
    }
    const session = `${m.config.name}@${++m.generation}`;
    const problem = await this.#loadChecked(m, session, file);
    // An activation that came first wins (the OTA layer knows better than the start-up file).
    if (m.active !== undefined || this.#stopped) {
      await this.#deps.runner.unload(session);
      return;
    }
    if (problem !== undefined) {
      await this.#deps.runner.unload(session);
      return this.#fault(m, problem);
    }
    m.active = session;
    m.file = file;
    m.state = 'running';
    m.lastError = undefined;
    this.#deps.log.info({ model: m.config.name, file }, 'model loaded');
  }

  /** Loads `file` as `session` and checks it against the configuration; undefined or why not. */
  async #loadChecked(m: Model, session: string, file: string): Promise<string | undefined> {
    try {
      await access(file);
    } catch (error) {
      return `model file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`;
    }
    const loaded = await this.#deps.runner.load(session, file);
    if (!loaded.ok) return loaded.code === 'runtime-missing' ? loaded.message : `${file}: ${loaded.message}`;
    const mismatch = checkModel(m, loaded);
    return mismatch && `${file}: ${mismatch}`;
  }

  #fault(m: Model, message: string): void {
    m.state = 'faulted';
    m.lastError = `inference model ${m.config.name}: ${message}`;
    this.#deps.log.error({ model: m.config.name, error: m.lastError }, 'inference model faulted');
    this.#deps.alarms.raise({ id: m.alarmId, severity: 'major', message: m.lastError, source: m.source });
    m.alarmed = true;
    for (const o of m.outputs) this.#deps.points.setQuality(o.point, 'stale');
  }

  #sample(m: Model): void {
    const row: number[] = [];
    for (const name of m.config.inputs) {
      const p = this.#deps.points.get(name);
      const v = p?.value;
      if (p?.quality !== 'good' || !(typeof v === 'number' || typeof v === 'boolean')) {
        if (m.badInput !== name) {
          const why = p?.quality !== 'good' ? (p?.quality ?? 'unknown') : `not a number (${typeof v})`;
          m.badInput = name;
          m.window.clear();
          this.#stale(m, `input ${name} is ${why}`, false);
        }
        return;
      }
      row.push(typeof v === 'boolean' ? Number(v) : v);
    }
    if (m.badInput !== undefined) {
      this.#deps.log.info({ model: m.config.name }, 'inference inputs good again: refilling the window');
      m.badInput = undefined;
    }
    m.window.push(row);
  }

  async #runWindow(m: Model, reuse?: Float32Array): Promise<void> {
    const session = m.active;
    if (this.#stopped || !session || m.badInput !== undefined || !m.window.full) return;
    if (m.inFlight) {
      m.skipped++;
      return;
    }
    const window = reuse ?? m.window.snapshot();
    // Kept to run the old model on the same window if a new one fails its probation.
    const copy = m.probation?.session === session ? window.slice() : undefined;
    m.inFlight = true;
    m.runs++;
    let result: RunResult;
    try {
      result = await this.#deps.runner.run({
        session,
        window,
        dims: m.window.dims(),
        outputs: m.keys,
        timeoutMs: m.config.timeoutMs,
      });
    } finally {
      m.inFlight = false;
    }
    // Stopped, or switched meanwhile: this result is not the outputs' any more.
    if (this.#stopped || m.active !== session) return;
    const verdict = this.#judge(result);
    const probation = m.probation?.session === session ? m.probation : undefined;
    if (!verdict.ok && probation) {
      m.failed++;
      this.#deps.log.warn(
        { model: m.config.name, error: verdict.message },
        'new model failed: switching back',
      );
      await this.#revert(m, {
        ok: false,
        reason: verdict.reason === 'threw' ? 'bad-output' : verdict.reason,
        message: `model ${m.config.name}: the new model ${verdict.reason === 'late' ? 'was late' : 'failed'}: ${verdict.message}`,
      });
      if (m.active && copy) await this.#runWindow(m, copy);
      return;
    }
    if (!verdict.ok) {
      m.failed++;
      this.#stale(m, verdict.message, true);
      return;
    }
    m.good++;
    m.lastRunMs = verdict.elapsedMs;
    for (const o of m.outputs)
      this.#deps.points.update(o.point, verdict.values[o.key] ?? Number.NaN, m.source);
    m.lastError = undefined;
    if (m.alarmed) {
      m.alarmed = false;
      this.#deps.alarms.clear(m.alarmId, m.source);
      this.#deps.log.info({ model: m.config.name }, 'inference model good again');
    }
    if (probation && --probation.remaining <= 0) {
      await this.#release(m);
      this.#deps.log.info({ model: m.config.name, file: m.file }, 'new model proven: old one released');
      probation.end({ ok: true });
    }
  }

  #judge(result: RunResult): Verdict {
    if (!result.ok) return result;
    for (const [key, value] of Object.entries(result.values)) {
      if (!Number.isFinite(value))
        return { ok: false, reason: 'bad-output', message: `output ${key} is ${value}` };
    }
    return result;
  }

  /** Outputs stale with the reason; a model failure (not an input) also raises the model's alarm. */
  #stale(m: Model, why: string, alarm: boolean): void {
    for (const o of m.outputs) this.#deps.points.setQuality(o.point, 'stale');
    const first = m.lastError === undefined;
    m.lastError = `inference model ${m.config.name}: ${why}`;
    if (first) this.#deps.log.warn({ model: m.config.name, error: why }, 'inference outputs stale');
    if (alarm && !m.alarmed) {
      m.alarmed = true;
      this.#deps.alarms.raise({
        id: m.alarmId,
        severity: 'minor',
        message: `${m.lastError}; outputs stale`,
        source: m.source,
      });
    }
  }

  /** Probation over, the new model kept: the old session is released. */
  async #release(m: Model): Promise<void> {
    const old = m.previous;
    m.previous = undefined;
    if (old) await this.#deps.runner.unload(old);
  }

  /** Probation failed: the old session's results are the outputs again; the new one is released. */
  async #revert(m: Model, result: LiveActivation): Promise<void> {
    const probation = m.probation;
    if (!probation) return;
    m.active = m.previous;
    m.previous = undefined;
    if (m.active === undefined) {
      m.state = 'faulted';
      for (const o of m.outputs) this.#deps.points.setQuality(o.point, 'stale');
    }
    probation.end(result);
    await this.#deps.runner.unload(probation.session);
  }
}

/** Whether a loaded model fits its configuration: a `window` input of the right shape, the outputs. */
function checkModel(m: Model, loaded: Extract<LoadResult, { ok: true }>): string | undefined {
  const window = loaded.inputs.find((i) => i.name === 'window');
  if (!window) {
    return `the model has no input named window (its inputs: ${loaded.inputs.map((i) => i.name).join(', ')})`;
  }
  const want = m.window.dims();
  const fits =
    window.dims.length === 0 ||
    (window.dims.length === 3 && window.dims.every((d, i) => typeof d === 'string' || d === want[i]));
  if (!fits) {
    return `its input window is [${window.dims.join(', ')}], the configuration gives [${want.join(', ')}] (window.size ${m.window.size}, ${m.window.inputs} inputs)`;
  }
  const names = new Set(loaded.outputs.map((o) => o.name));
  const missing = m.keys.filter((k) => !names.has(k));
  if (missing.length > 0) {
    return `the model has no output ${missing.join(', ')} (its outputs: ${[...names].join(', ')})`;
  }
  return undefined;
}
