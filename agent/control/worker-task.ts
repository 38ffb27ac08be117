/**
 * The contract between `WorkerTicker` and a task module run in its worker: the module exports
 * `createTick(shared, options)` returning the function called at each deadline. Shared layout of the
 * ticker's own control block is fixed here so both sides agree.
 */

/** A task module's export: builds the tick function once, in the worker. */
export type CreateTick = (shared: SharedArrayBuffer, options: unknown) => (deadlineMs: number) => void;

export interface WorkerTickerConfig {
  readonly periodMs: number;
  readonly spinUs: number;
  readonly taskModule: string;
  readonly taskOptions: unknown;
  readonly shared: SharedArrayBuffer;
  /** Int32[0] = stop flag; Float64 from byte 16: the STATS slots, then the lateness ring. */
  readonly control: SharedArrayBuffer;
  readonly samples: number;
}

/** Float64 slot indexes in the control block (after the 16-byte flag header). */
export const STATS = { ticks: 0, late: 1, missed: 2, samplesStart: 3 } as const;
