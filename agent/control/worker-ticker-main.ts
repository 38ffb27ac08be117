/**
 * The worker side of `WorkerTicker`: sleep with Atomics.wait until `spinUs` before the deadline, spin
 * to it, run the tick, record the lateness, and move the deadline by exactly one period (skipping,
 * and counting, whole periods that were missed).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type CreateTick, STATS, type WorkerTickerConfig } from './worker-task.js';

const config = workerData as WorkerTickerConfig;
const flags = new Int32Array(config.control, 0, 4);
const stats = new Float64Array(config.control, 16);
const task = (await import(config.taskModule)) as { createTick: CreateTick };
const tick = task.createTick(config.shared, config.taskOptions);
const period = config.periodMs;
const spinMs = config.spinUs / 1000;
const LATE_MS = 0.5;

let deadline = performance.now() + period;
parentPort?.postMessage('started');
while (Atomics.load(flags, 0) === 0) {
  const sleepMs = deadline - performance.now() - spinMs;
  if (sleepMs > 0) Atomics.wait(flags, 0, 0, sleepMs);
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
