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
import type { ModelConfig } from './infer-schema.js';
import {
  type ActivateOptions,
  checkModel,
  type LiveActivation,
  type Model,
  type ModelStatus,
  newModel,
  type Verdict,
} from './model-state.js';
import type { ModelRunner, RunResult } from './onnx-runner.js';

export type { ActivateOptions, LiveActivation, ModelState, ModelStatus } from './model-state.js';

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

export class InferenceEngine {
  readonly #deps: InferenceEngineDeps;
  readonly #models = new Map<string, Model>();
  readonly #timers: TimerHandle[] = [];
  #loads: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: InferenceEngineDeps, models: readonly ModelConfig[]) {
    this.#deps = deps;
    for (const config of models) {
      this.#models.set(config.name, newModel(config));
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
