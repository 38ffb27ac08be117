/**
 * The state the inference engine keeps per model, the results it hands out (`ModelStatus`,
 * `LiveActivation`) and the check of a loaded model against its configuration: the engine's data,
 * apart from its behaviour (inference-engine.ts).
 */
import { type ModelConfig, type ModelOutput, modelOutputs } from './infer-schema.js';
import type { LoadResult } from './onnx-runner.js';
import { SampleWindow } from './sample-window.js';

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

export type Verdict =
  | { readonly ok: true; readonly values: Readonly<Record<string, number>>; readonly elapsedMs: number }
  | { readonly ok: false; readonly reason: 'threw' | 'late' | 'bad-output'; readonly message: string };

export interface Probation {
  readonly session: string;
  remaining: number;
  end(result: LiveActivation): void;
}

export interface Model {
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

export function newModel(config: ModelConfig): Model {
  const outputs = modelOutputs(config);
  return {
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
  };
}

/** Whether a loaded model fits its configuration: a `window` input of the right shape, the outputs. */
export function checkModel(m: Model, loaded: Extract<LoadResult, { ok: true }>): string | undefined {
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
