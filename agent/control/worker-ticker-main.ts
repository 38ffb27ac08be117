/**
 * The worker side of `WorkerTicker`: sleep with Atomics.wait until a guard time before the deadline,
 * spin to it, run the tick, record the lateness, and move the deadline by exactly one period
 * (skipping, and counting, whole periods that were missed).
 *
 * The guard adapts: a futex wake-up is usually tens of microseconds late but, on a loaded two-core
 * board, sometimes close to a millisecond. The guard follows the worst recent oversleep (decaying
 * slowly) with a margin, between `spinUs` and half the period — so an idle board spins little and a
 * busy one spins enough to stay on time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type CreateTick, STATS, type WorkerTickerConfig } from './worker-task.js';

const config = workerData as WorkerTickerConfig;
const flags = new Int32Array(config.control, 0, 4);
const stats = new Float64Array(config.control, 16);
const task = (await import(config.taskModule)) as { createTick: CreateTick };
const tick = task.createTick(config.shared, config.taskOptions);
const period = config.periodMs;
const minGuardMs = config.spinUs / 1000;
const maxGuardMs = Math.max(minGuardMs, period / 2);
const LATE_MS = 0.5;
/** Worst recent oversleep (ms), decaying by 1 % per tick. */
let oversleepMs = 0;

let deadline = performance.now() + period;
parentPort?.postMessage('started');
while (Atomics.load(flags, 0) === 0) {
  const guardMs = Math.min(maxGuardMs, Math.max(minGuardMs, 1.5 * oversleepMs));
  const wakeAt = deadline - guardMs;
  const sleepMs = wakeAt - performance.now();
  if (sleepMs > 0) {
    Atomics.wait(flags, 0, 0, sleepMs);
    oversleepMs = Math.max(oversleepMs * 0.99, performance.now() - wakeAt);
  }
  if (Atomics.load(flags, 0) !== 0) break;
  let now = performance.now();
  while (now < deadline) now = performance.now();
  const behind = Math.floor((now - deadline) / period);
  if (behind > 0) {
    stats[STATS.missed] = (stats[STATS.missed] ?? 0) + behind;
    deadline += behind * period;
  }
  const lateness = now - deadline;
  const n = stats[STATS.ticks] ?? 0;
  stats[STATS.samplesStart + (n % config.samples)] = lateness;
  if (lateness > LATE_MS) stats[STATS.late] = (stats[STATS.late] ?? 0) + 1;
  tick(deadline);
  stats[STATS.ticks] = n + 1;
  deadline += period;
}
