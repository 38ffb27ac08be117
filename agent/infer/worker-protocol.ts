/**
 * The messages between the inference runner (main thread, onnx-runner.ts) and its worker thread
 * (onnx-worker-main.ts). Every request carries an `id` the answer repeats; a session is named by the
 * main thread (`<model>@<generation>`), so an old and a new version of one model can be loaded side
 * by side during a live swap. Windows travel as Float32Array whose buffer is transferred, not copied.
 */

/** The npm package of the ONNX runtime: an optional dependency, imported by the worker on first load. */
export const RUNTIME_PACKAGE = 'onnxruntime-node';

/** What a missing runtime is called in every message (logs, alarms, the `models` command). */
export const RUNTIME_MISSING_MESSAGE = `the ONNX runtime is not installed (npm package ${RUNTIME_PACKAGE}, an optional dependency: npm install ${RUNTIME_PACKAGE})`;

export interface TensorInfo {
  readonly name: string;
  /** Dimensions; a string is a symbolic one (any size). Empty when the model does not say. */
  readonly dims: readonly (number | string)[];
}

export type WorkerRequest =
  | { readonly type: 'load'; readonly id: number; readonly session: string; readonly file: string }
  | {
      readonly type: 'run';
      readonly id: number;
      readonly session: string;
      /** The `window` input, row-major `[1, size, inputs]`. */
      readonly window: Float32Array;
      readonly dims: readonly number[];
      /** The output tensors wanted (each of shape [1]). */
      readonly outputs: readonly string[];
    }
  | { readonly type: 'unload'; readonly id: number; readonly session: string }
  /** Release every session and end the thread (after the native call in progress, if any). */
  | { readonly type: 'exit'; readonly id: number };

/** Why a request failed: the runtime could not be imported, the model not loaded, or the run threw. */
export type WorkerErrorCode = 'runtime-missing' | 'load-failed' | 'run-failed' | 'unknown-session';

export type WorkerAnswer =
  | {
      readonly type: 'loaded';
      readonly id: number;
      readonly inputs: readonly TensorInfo[];
      readonly outputs: readonly TensorInfo[];
    }
  | {
      readonly type: 'result';
      readonly id: number;
      /** Output name → its one value (NaN and ±Infinity are passed on as they are). */
      readonly values: Readonly<Record<string, number>>;
      /** The run's own duration in the worker, ms. */
      readonly elapsedMs: number;
    }
  | { readonly type: 'unloaded'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly code: WorkerErrorCode; readonly message: string };
