/**
 * Runs a fast task in a worker thread on absolute deadlines with sub-millisecond lateness. The main
 * thread's event loop is shared with bus I/O, logging and telemetry, and its timers have 1 ms
 * granularity; a worker sleeps with `Atomics.wait` until shortly before each deadline and spins the
 * last `spinUs` microseconds, on the other core. The price is that the task cannot share objects with
 * the main thread: it is an ES module (exporting `createTick`) loaded in the worker, and it exchanges
 * values with the main thread through a SharedArrayBuffer (see worker-task.ts).
 *
 * Counters and a ring of recent lateness samples live in shared memory, so reading them costs the
 * worker nothing.
 */
import { Worker } from 'node:worker_threads';
import { STATS, type WorkerTickerConfig } from './worker-task.js';

export interface WorkerTickerOptions {
  readonly periodMs: number;
  /**
   * The worker thread's entry point: the built `control/worker-ticker-main.js` (a worker cannot load
   * the TypeScript source). The caller resolves it; in the bundled build it is not beside this module.
   */
  readonly workerEntry: URL;
  /** The task module (an ES module URL) exporting `createTick(shared, options)`. */
  readonly taskModule: URL;
  readonly taskOptions?: unknown;
  /** Bytes of shared memory for the task's own slots. */
  readonly sharedBytes?: number;
  /** How long before each deadline the worker stops sleeping and spins (µs). */
  readonly spinUs?: number;
  /** How many recent lateness samples to keep (for percentiles). */
  readonly samples?: number;
}

export interface WorkerTickerStats {
  readonly ticks: number;
  readonly late: number;
  readonly missed: number;
  /** Recent lateness samples in ms (actual start minus deadline), oldest first. */
  readonly latenessMs: number[];
}

export class WorkerTicker {
  /** The task's shared memory: the main thread writes inputs and reads outputs here. */
  readonly shared: SharedArrayBuffer;
  readonly #options: WorkerTickerOptions;
  readonly #control: SharedArrayBuffer;
  readonly #stats: Float64Array;
  readonly #flags: Int32Array;
  readonly #samples: number;
  #worker: Worker | undefined;

  constructor(options: WorkerTickerOptions) {
    if (!(options.periodMs > 0)) throw new TypeError(`periodMs must be > 0, got ${options.periodMs}`);
    this.#options = options;
    this.#samples = options.samples ?? 10_000;
    this.shared = new SharedArrayBuffer(options.sharedBytes ?? 256);
    this.#control = new SharedArrayBuffer(16 + 8 * (STATS.samplesStart + this.#samples));
    this.#flags = new Int32Array(this.#control, 0, 4);
    this.#stats = new Float64Array(this.#control, 16);
  }

  /** Starts the worker; resolves when its first tick is armed. */
  async start(): Promise<void> {
    if (this.#worker) return;
    const config: WorkerTickerConfig = {
      periodMs: this.#options.periodMs,
      spinUs: this.#options.spinUs ?? 300,
      taskModule: this.#options.taskModule.href,
      taskOptions: this.#options.taskOptions,
      shared: this.shared,
      control: this.#control,
      samples: this.#samples,
    };
    const worker = new Worker(this.#options.workerEntry, {
      workerData: config,
    });
    this.#worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker ticker exited with ${code} before starting`)));
    });
  }

  stats(): WorkerTickerStats {
    const ticks = this.#stats[STATS.ticks] ?? 0;
    const n = Math.min(ticks, this.#samples);
    const latenessMs: number[] = [];
    for (let i = ticks - n; i < ticks; i++)
      latenessMs.push(this.#stats[STATS.samplesStart + (i % this.#samples)] ?? 0);
    return { ticks, late: this.#stats[STATS.late] ?? 0, missed: this.#stats[STATS.missed] ?? 0, latenessMs };
  }

  /** Asks the worker to finish its current tick and exit. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    Atomics.store(this.#flags, 0, 1);
    Atomics.notify(this.#flags, 0);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 1000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
