/**
 * Runs ONNX models in one worker thread (onnx-worker-main.ts), so a model's synchronous native run
 * never holds the main thread, where the control loops, rules and drivers keep their deadlines. The
 * worker is started on the first `load` — an agent without models never starts it, and never imports
 * the runtime.
 *
 * The runtime's native binding is loaded once on the main thread first (`prepare()`, ~50 ms, before
 * the control loops start): onnxruntime-node's addon registers itself only with the first thread that
 * loads it, so a replacement worker could not load it again ("Module did not self-register") unless
 * the main thread, which never exits, holds it. That import is also where a missing package is found:
 * every load then answers `runtime-missing` and no worker is started.
 *
 * Every run has a deadline (`timeoutMs`, on the runner's clock; the worker also reports how long the
 * run itself took): past it the run resolves `late` and its answer, when it comes, is dropped. A
 * worker that has not answered a run for `stuckAfterMs` (a load: `loadStuckAfterMs`) is considered
 * stuck — a native run that does not return, a model far slower than its budget — and is replaced: a
 * new worker loads every session again from its file and serves from then on. Requests the old one
 * had not answered fail with the reason. A crashed worker is replaced with the next request.
 *
 * A worker is never terminated while it may be inside the runtime: onnxruntime-node throws a C++
 * exception when its thread is torn down mid-call, which aborts the whole process (SIGABRT). So a
 * worker is *retired* instead — told to release its sessions and exit, which it does as soon as its
 * current native call returns — and `stop()` waits for that (at most `stopWaitMs`; a run that never
 * returns is logged, and the process exit may then abort).
 */
import { Worker } from 'node:worker_threads';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import {
  RUNTIME_MISSING_MESSAGE,
  RUNTIME_PACKAGE,
  type TensorInfo,
  type WorkerAnswer,
  type WorkerErrorCode,
  type WorkerRequest,
} from './worker-protocol.js';

export type LoadResult =
  | { readonly ok: true; readonly inputs: readonly TensorInfo[]; readonly outputs: readonly TensorInfo[] }
  | { readonly ok: false; readonly code: WorkerErrorCode | 'worker-failed'; readonly message: string };

export type RunResult =
  | { readonly ok: true; readonly values: Readonly<Record<string, number>>; readonly elapsedMs: number }
  | { readonly ok: false; readonly reason: 'threw' | 'late'; readonly message: string };

export interface RunRequest {
  readonly session: string;
  /** `[1, size, inputs]`, row-major; its buffer is transferred to the worker. */
  readonly window: Float32Array;
  readonly dims: readonly number[];
  readonly outputs: readonly string[];
  readonly timeoutMs: number;
}

/** What the inference engine needs of a runner (the ONNX one here; a test may give another). */
export interface ModelRunner {
  /** Readies the runtime before the first load (see the header); never rejects. */
  prepare(): Promise<void>;
  load(session: string, file: string): Promise<LoadResult>;
  run(request: RunRequest): Promise<RunResult>;
  unload(session: string): Promise<void>;
  stop(): Promise<void>;
}

export interface OnnxRunnerOptions {
  /** The worker's entry: the built `infer/onnx-worker-main.js` (a worker cannot load TypeScript). */
  readonly workerEntry: URL;
  /** A run unanswered this long means the worker is stuck: it is replaced. Default 5000. */
  readonly stuckAfterMs?: number;
  /** The same for a load (a large model takes a while to load). Default 60000. */
  readonly loadStuckAfterMs?: number;
  /** How long `stop()` waits for the worker to finish its current run and exit. Default 5000. */
  readonly stopWaitMs?: number;
}

interface Pending {
  readonly request: WorkerRequest;
  readonly settle: (answer: WorkerAnswer | { type: 'lost'; message: string }) => void;
  readonly stuck: TimerHandle;
}

export class OnnxRunner implements ModelRunner {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #options: OnnxRunnerOptions;
  readonly #stuckAfterMs: number;
  /** Session name → model file, to load them again in a new worker. */
  readonly #files = new Map<string, string>();
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  /** Replaced workers still finishing a native call, and when each has exited. */
  readonly #retiring = new Map<Worker, Promise<void>>();
  /** Undefined when the runtime is usable, else why not; set by `prepare()`. */
  #prepared: Promise<string | undefined> | undefined;
  #nextId = 1;
  #restarts = 0;
  #stopped = false;

  constructor(deps: { clock: Clock; log: Logger }, options: OnnxRunnerOptions) {
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#options = options;
    this.#stuckAfterMs = options.stuckAfterMs ?? 5000;
    if (!(this.#stuckAfterMs > 0)) throw new TypeError(`stuckAfterMs must be > 0, got ${this.#stuckAfterMs}`);
  }

  /** How many times the worker was replaced (stuck or crashed). */
  get restarts(): number {
    return this.#restarts;
  }

  /** Whether the worker thread is running (it starts with the first load). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  prepare(): Promise<void> {
    this.#prepared ??= import(RUNTIME_PACKAGE).then(
      () => undefined,
      (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return RUNTIME_MISSING_MESSAGE;
        return `${RUNTIME_PACKAGE} failed to load: ${errorMessage(error)}`;
      },
    );
    return this.#prepared.then(() => undefined);
  }

  async load(session: string, file: string): Promise<LoadResult> {
    await this.prepare();
    const unusable = await this.#prepared;
    if (unusable !== undefined) {
      return {
        ok: false,
        code: unusable === RUNTIME_MISSING_MESSAGE ? 'runtime-missing' : 'load-failed',
        message: unusable,
      };
    }
    this.#files.set(session, file);
    const a = await this.#request({ type: 'load', id: this.#nextId++, session, file });
    if (a.type === 'loaded') return { ok: true, inputs: a.inputs, outputs: a.outputs };
    this.#files.delete(session);
    if (a.type === 'error') return { ok: false, code: a.code, message: a.message };
    return { ok: false, code: 'worker-failed', message: a.type === 'lost' ? a.message : 'unexpected answer' };
  }

  async run(r: RunRequest): Promise<RunResult> {
    const started = this.#clock.monotonicMs();
    const request: WorkerRequest = {
      type: 'run',
      id: this.#nextId++,
      session: r.session,
      window: r.window,
      dims: r.dims,
      outputs: r.outputs,
    };
    const late = (afterMs: number): RunResult => ({
      ok: false,
      reason: 'late',
      message: `no result within timeoutMs ${r.timeoutMs} (${Math.round(afterMs)} ms)`,
    });
    let timer: TimerHandle | undefined;
    const deadline = new Promise<RunResult>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(late(this.#clock.monotonicMs() - started)), r.timeoutMs);
    });
    const answered = this.#request(request, [r.window.buffer as ArrayBuffer]).then((a): RunResult => {
      if (a.type === 'result') {
        return a.elapsedMs > r.timeoutMs
          ? late(a.elapsedMs)
          : { ok: true, values: a.values, elapsedMs: a.elapsedMs };
      }
      if (a.type === 'error' || a.type === 'lost') return { ok: false, reason: 'threw', message: a.message };
      return { ok: false, reason: 'threw', message: 'unexpected answer' };
    });
    try {
      return await Promise.race([answered, deadline]);
    } finally {
      timer?.cancel();
    }
  }

  async unload(session: string): Promise<void> {
    if (!this.#files.delete(session) || !this.#worker) return;
    await this.#request({ type: 'unload', id: this.#nextId++, session });
  }

  /** Fails whatever is pending and waits (bounded) for every worker to finish its run and exit. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#files.clear();
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failPending('the inference runner stopped');
    if (worker) this.#retire(worker);
    const waitMs = this.#options.stopWaitMs ?? 5000;
    let timer: TimerHandle | undefined;
    const exited = await Promise.race([
      Promise.all(this.#retiring.values()).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = this.#clock.setTimeout(() => resolve(false), waitMs);
      }),
    ]);
    timer?.cancel();
    if (!exited) {
      this.#log.error(
        { waitMs, workers: this.#retiring.size },
        'an inference run has not returned; the process may abort when it exits',
      );
    }
  }

  /** Workers not yet exited (the current one and retired ones still in a native call). */
  get threads(): number {
    return this.#retiring.size + (this.#worker ? 1 : 0);
  }

  #request(
    request: WorkerRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerAnswer | { type: 'lost'; message: string }> {
    if (this.#stopped) return Promise.resolve({ type: 'lost', message: 'the inference runner stopped' });
    const worker = this.#ensureWorker();
    return new Promise((resolve) => {
      // Behind a load (a new worker loading its sessions again), a run waits for it: it gets the load's
      // time too, or a slow start would look like a stuck run.
      const behindLoad = [...this.#pending.values()].some((p) => p.request.type === 'load');
      const limit = this.#stuckLimit(request) + (behindLoad ? this.#loadStuckAfterMs : 0);
      const stuck = this.#clock.setTimeout(() => this.#replace('stuck', request), limit);
      this.#pending.set(request.id, { request, settle: resolve, stuck });
      worker.postMessage(request, transfer);
    });
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#options.workerEntry);
    this.#worker = worker;
    worker.on('message', (a: WorkerAnswer) => {
      const p = this.#pending.get(a.id);
      if (!p) return;
      this.#pending.delete(a.id);
      p.stuck.cancel();
      p.settle(a);
    });
    worker.on('error', (error) => {
      if (this.#worker === worker) this.#replace('crashed', undefined, errorMessage(error));
    });
    worker.on('exit', (code) => {
      if (this.#worker === worker && !this.#stopped) this.#replace('crashed', undefined, `exit code ${code}`);
    });
    // A session loaded before a replacement is loaded again first: the worker handles a run after
    // the load it follows (it awaits the session).
    for (const [session, file] of this.#files) {
      const id = this.#nextId++;
      const request: WorkerRequest = { type: 'load', id, session, file };
      const stuck = this.#clock.setTimeout(() => this.#replace('stuck', request), this.#stuckLimit(request));
      this.#pending.set(id, {
        request,
        stuck,
        settle: (a) => {
          if (a.type === 'error')
            this.#log.error({ session, error: a.message }, 'model failed to load again');
        },
      });
      worker.postMessage(request);
    }
    return worker;
  }

  #stuckLimit(request: WorkerRequest): number {
    return request.type === 'load' ? this.#loadStuckAfterMs : this.#stuckAfterMs;
  }

  get #loadStuckAfterMs(): number {
    return this.#options.loadStuckAfterMs ?? 60_000;
  }

  /** Tells a worker to release its sessions and exit once its current native call has returned. */
  #retire(worker: Worker): void {
    worker.removeAllListeners('message');
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    // An error after retirement is of no interest; unhandled it would throw.
    worker.on('error', () => undefined);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.#retiring.set(worker, exited);
    void exited.then(() => this.#retiring.delete(worker));
    worker.postMessage({ type: 'exit', id: 0 } satisfies WorkerRequest);
  }

  /** Retires the worker; a new one loads every session again (see #ensureWorker). */
  #replace(why: 'stuck' | 'crashed', request: WorkerRequest | undefined, detail?: string): void {
    const worker = this.#worker;
    if (!worker || this.#stopped) return;
    this.#worker = undefined;
    this.#restarts++;
    const what = request && request.type !== 'exit' ? `${request.type} of ${request.session}` : undefined;
    this.#log.warn(
      { why, request: what, detail, stuckAfterMs: this.#stuckAfterMs },
      'inference worker replaced',
    );
    this.#failPending(
      why === 'stuck'
        ? `the inference worker was stuck (no answer for ${request ? this.#stuckLimit(request) : this.#stuckAfterMs} ms) and was replaced`
        : `the inference worker crashed (${detail}) and is replaced with the next request`,
    );
    if (why === 'stuck') this.#retire(worker);
    // After a stuck worker, sessions are loaded again at once, so the next run finds them ready; after
    // a crash, with the next request (a worker that cannot even start must not restart in a loop).
    if (why === 'stuck' && this.#files.size > 0) this.#ensureWorker();
  }

  #failPending(message: string): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      p.stuck.cancel();
      p.settle({ type: 'lost', message });
    }
  }
}
