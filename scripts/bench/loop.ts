/**
 * loop: scheduling lateness (actual start minus deadline) of a periodic control tick at 100 Hz and
 * 1 kHz, idle and under load (telemetry-like allocation churn plus a CPU hog on the main thread), for
 *  - `setInterval`: the naive loop (lateness against the ideal absolute deadlines, so drift shows),
 *  - `scheduler`: our main-thread Scheduler on the system clock,
 *  - `worker`: our WorkerTicker (Atomics.wait + final spin in a worker thread) running a PID task,
 * all in one run; p50/p99/max in ms, medians over `--runs`. Also nanoseconds per PID update.
 *   npm run bench -- loop [--seconds 3] [--runs 3]
 */

import { Scheduler } from '../../agent/control/scheduler.js';
import { PID_SHARED_BYTES } from '../../agent/control/worker-pid-task.js';
import { WorkerTicker } from '../../agent/control/worker-ticker.js';
import { SystemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { pidBench } from './pid.js';
import { median, parseFlags, quantile, round } from './stats.js';

type Mode = 'setInterval' | 'scheduler' | 'worker';

interface Figures {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

export async function loopBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args);
  const seconds = Number(flags.get('seconds') ?? 3);
  const runs = Number(flags.get('runs') ?? 3);
  const results: Record<string, Figures[]> = {};
  for (let run = 0; run < runs; run++) {
    for (const load of [false, true]) {
      for (const hz of [100, 1000]) {
        for (const mode of ['setInterval', 'scheduler', 'worker'] as Mode[]) {
          const key = `${mode}.${hz}Hz.${load ? 'load' : 'idle'}`;
          const samples = await measure(mode, 1000 / hz, seconds * 1000, load);
          const f = figures(samples);
          const list = results[key] ?? [];
          list.push(f);
          results[key] = list;
          process.stderr.write(
            `run ${run + 1} ${key.padEnd(28)} p50 ${f.p50.toFixed(3)} p99 ${f.p99.toFixed(3)} max ${f.max.toFixed(3)} ms (n=${f.n})\n`,
          );
        }
      }
    }
  }
  const latenessMs: Record<string, { p50: number; p99: number; max: number }> = {};
  for (const [key, list] of Object.entries(results)) {
    latenessMs[key] = {
      p50: round(median(list.map((f) => f.p50)), 3),
      p99: round(median(list.map((f) => f.p99)), 3),
      max: round(median(list.map((f) => f.max)), 3),
    };
  }
  const pid = await pidBench([]);
  return {
    seconds,
    runs,
    latenessMs,
    pid,
    goal: { 'worker.100Hz.load.p99': 0.5, 'worker.1000Hz.idle.p99': 0.25 },
  };
}

function figures(samples: number[]): Figures {
  return {
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    max: Math.max(...samples),
    n: samples.length,
  };
}

async function measure(mode: Mode, periodMs: number, durationMs: number, load: boolean): Promise<number[]> {
  const stopLoad = load ? startLoad() : () => undefined;
  try {
    if (mode === 'worker') return await measureWorker(periodMs, durationMs);
    return await measureMain(mode, periodMs, durationMs);
  } finally {
    stopLoad();
  }
}

async function measureMain(
  mode: 'setInterval' | 'scheduler',
  periodMs: number,
  durationMs: number,
): Promise<number[]> {
  const samples: number[] = [];
  const work = pidWork();
  const start = performance.now() + periodMs;
  if (mode === 'setInterval') {
    let k = 0;
    await new Promise<void>((resolve) => {
      // The first call is due one period after setInterval; tick k is due at start + k·period.
      const t = setInterval(() => {
        samples.push(performance.now() - (start + k * periodMs));
        k++;
        work();
        if (samples.length * periodMs >= durationMs) {
          clearInterval(t);
          resolve();
        }
      }, periodMs);
    });
    return samples;
  }
  const clock = new SystemClock();
  const scheduler = new Scheduler({ clock, log: silentLogger() });
  await new Promise<void>((resolve) => {
    scheduler.add({
      name: 'bench',
      periodMs,
      run: (deadline) => {
        samples.push(clock.monotonicMs() - deadline);
        work();
        if (samples.length * periodMs >= durationMs) resolve();
      },
    });
    scheduler.start();
  });
  await scheduler.stop();
  return samples;
}

async function measureWorker(periodMs: number, durationMs: number): Promise<number[]> {
  const ticker = new WorkerTicker({
    periodMs,
    workerEntry: new URL('../../agent/control/worker-ticker-main.js', import.meta.url),
    taskModule: new URL('../../agent/control/worker-pid-task.js', import.meta.url),
    taskOptions: { sampleMs: periodMs, tunings: { kp: 2, ki: 0.5, kd: 0.1 }, outMin: 0, outMax: 1 },
    sharedBytes: PID_SHARED_BYTES,
    samples: Math.ceil(durationMs / periodMs) + 10,
  });
  await ticker.start();
  await new Promise((r) => setTimeout(r, durationMs));
  const { latenessMs } = ticker.stats();
  await ticker.stop();
  return latenessMs;
}

/** A representative tick: a few floating-point updates (the PID cost itself is measured apart). */
function pidWork(): () => void {
  let integral = 0;
  let last = 0;
  return () => {
    const input = Math.sin(performance.now() / 1000);
    const error = 0.5 - input;
    integral = Math.min(1, Math.max(0, integral + 0.01 * error));
    const out = 2 * error + integral - 0.1 * (input - last);
    last = input;
    if (!Number.isFinite(out)) throw new Error('unreachable');
  };
}

/**
 * Main-thread load: every 10 ms, build and serialise 500 telemetry-like readings (allocation churn)
 * and spin the CPU for 3 ms (a hog: a slow parser, a sync crypto call).
 */
function startLoad(): () => void {
  let sink = 0;
  const t = setInterval(() => {
    const batch = Array.from({ length: 500 }, (_, i) => ({
      n: `point.${i}`,
      v: Math.random(),
      t: Date.now(),
    }));
    sink += JSON.stringify(batch).length;
    const until = performance.now() + 3;
    while (performance.now() < until) sink++;
  }, 10);
  return () => {
    clearInterval(t);
    if (sink < 0) process.stderr.write('');
  };
}
