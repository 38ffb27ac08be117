/**
 * The inference worker thread's entry (loaded as the built `infer/onnx-worker-main.js`; see
 * onnx-runner.ts). It imports the ONNX runtime (`onnxruntime-node`, an optional dependency) on the
 * first `load`, so an agent without the package only learns it when a model is configured, and
 * answers `runtime-missing` with the package's name and how to install it. One InferenceSession per
 * loaded session name; runs are synchronous native calls, which is why they happen here and not on
 * the main thread, where the control loops keep their deadlines.
 *
 * Sessions use one intra-op thread: a gateway has two to four cores, and the other ones belong to the
 * main thread (the loops) and the worker-thread loops.
 */
import { parentPort } from 'node:worker_threads';
import {
  RUNTIME_MISSING_MESSAGE,
  RUNTIME_PACKAGE,
  type TensorInfo,
  type WorkerAnswer,
  type WorkerRequest,
} from './worker-protocol.js';

/** The part of onnxruntime-node's API used here (the package is optional: no compile-time import). */
interface OrtTensor {
  readonly data: ArrayLike<number | bigint> | unknown;
  readonly size: number;
}
interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly shape?: readonly (number | string)[];
}
interface OrtSession {
  readonly inputMetadata: readonly OrtValueMetadata[];
  readonly outputMetadata: readonly OrtValueMetadata[];
  run(feeds: Record<string, unknown>, fetches: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: {
    create(file: string, options: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

const port = parentPort;
if (!port) throw new Error('onnx-worker-main.js must run in a worker thread');

let runtime: Promise<Ort> | undefined;
const sessions = new Map<string, Promise<OrtSession>>();

class RuntimeMissing extends Error {}

function loadRuntime(): Promise<Ort> {
  runtime ??= (import(RUNTIME_PACKAGE) as Promise<{ default?: Ort } & Ort>).then(
    (m) => (m.InferenceSession ? m : (m.default as Ort)),
    (error: unknown) => {
      runtime = undefined;
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new RuntimeMissing();
      throw new Error(`${RUNTIME_PACKAGE} failed to load: ${message(error)}`, { cause: error });
    },
  );
  return runtime;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function info(m: OrtValueMetadata): TensorInfo {
  return { name: m.name, dims: m.isTensor ? [...(m.shape ?? [])] : [] };
}

function answer(a: WorkerAnswer): void {
  port?.postMessage(a);
}

async function handle(req: WorkerRequest): Promise<void> {
  switch (req.type) {
    case 'load': {
      // The session is registered at once: a run that follows this load waits for it.
      const created = loadRuntime().then((ort) =>
        ort.InferenceSession.create(req.file, {
          intraOpNumThreads: 1,
          interOpNumThreads: 1,
          executionProviders: ['cpu'],
          // Fatal only: a failed run is reported to the main thread, which logs it once (not on stderr).
          logSeverityLevel: 4,
        }),
      );
      sessions.set(req.session, created);
      try {
        const s = await created;
        return answer({
          type: 'loaded',
          id: req.id,
          inputs: s.inputMetadata.map(info),
          outputs: s.outputMetadata.map(info),
        });
      } catch (error) {
        if (sessions.get(req.session) === created) sessions.delete(req.session);
        const missing = error instanceof RuntimeMissing;
        return answer({
          type: 'error',
          id: req.id,
          code: missing ? 'runtime-missing' : 'load-failed',
          message: missing ? RUNTIME_MISSING_MESSAGE : message(error),
        });
      }
    }
    case 'run': {
      const pending = sessions.get(req.session);
      if (!pending) {
        return answer({
          type: 'error',
          id: req.id,
          code: 'unknown-session',
          message: `no session ${req.session}`,
        });
      }
      try {
        const [session, ort] = await Promise.all([pending, loadRuntime()]);
        const started = performance.now();
        const result = await session.run(
          { window: new ort.Tensor('float32', req.window, req.dims) },
          req.outputs,
        );
        const elapsedMs = performance.now() - started;
        const values: Record<string, number> = {};
        for (const name of req.outputs) {
          const tensor = result[name];
          if (!tensor) throw new Error(`the model gave no output ${name}`);
          if (tensor.size !== 1)
            throw new Error(`output ${name} has ${tensor.size} values, expected 1 (shape [1])`);
          values[name] = Number((tensor.data as ArrayLike<number | bigint>)[0]);
        }
        return answer({ type: 'result', id: req.id, values, elapsedMs });
      } catch (error) {
        return answer({ type: 'error', id: req.id, code: 'run-failed', message: message(error) });
      }
    }
    case 'exit': {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((p) => p.then((s) => s.release()).catch(() => undefined)));
      // From JavaScript, not while the runtime is in a native call: a clean end of the thread.
      process.exit(0);
      return;
    }
    case 'unload': {
      const pending = sessions.get(req.session);
      sessions.delete(req.session);
      await pending?.then((s) => s.release()).catch(() => undefined);
      return answer({ type: 'unloaded', id: req.id });
    }
  }
}

port.on('message', (req: WorkerRequest) => {
  void handle(req);
});
