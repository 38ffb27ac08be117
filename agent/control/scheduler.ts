/**
 * Fixed-rate scheduling on absolute monotonic deadlines, the way a PLC runs its tasks: tick k of a
 * task is due at start + k·period, whatever the previous tick cost, so the rate never drifts (a naive
 * `setInterval` re-arms from "now" inside Node and accumulates the callback's delay). A tick that is
 * still running when the next one is due is an *overrun* (that tick is skipped, never queued); a tick
 * that fires after its deadline counts its *lateness*; whole periods missed (a blocked event loop) are
 * counted as *missed* and skipped rather than burst-replayed. The counters are exposed as points so
 * telemetry and the console see a loop that cannot keep up.
 *
 * This runs on the main thread with the injected clock (deterministic under FakeClock). Loops that
 * need sub-millisecond lateness run in a worker thread instead (worker-ticker.ts).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PointTable } from '../core/points.js';

export interface Task {
  readonly name: string;
  readonly periodMs: number;
  /** One tick; `deadlineMs` is the monotonic time it was due. May be async (an awaited write). */
  run(deadlineMs: number): void | Promise<void>;
}

export interface TaskStats {
  readonly name: string;
  readonly periodMs: number;
  readonly ticks: number;
  /** Ticks that started more than `lateAfterMs` after their deadline. */
  readonly late: number;
  /** Deadlines that passed while the previous tick was still running. */
  readonly overruns: number;
  /** Whole periods skipped because the event loop was blocked. */
  readonly missed: number;
  readonly errors: number;
  readonly maxLatenessMs: number;
}

interface Entry {
  readonly task: Task;
  next: number;
  timer: TimerHandle | undefined;
  running: boolean;
  stats: {
    ticks: number;
    late: number;
    overruns: number;
    missed: number;
    errors: number;
    maxLatenessMs: number;
  };
}

export interface SchedulerDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** When given, each task's counters are published as `control.<task>.{late,overruns,missed}`. */
  readonly points?: PointTable;
}

export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #entries = new Map<string, Entry>();
  readonly #lateAfterMs: number;
  #started = false;

  constructor(deps: SchedulerDeps, options: { lateAfterMs?: number } = {}) {
    this.#deps = deps;
    this.#lateAfterMs = options.lateAfterMs ?? 1;
  }

  /** Registers a task (before or after start). Names are unique; declares its counter points. */
  add(task: Task): void {
    if (!(task.periodMs > 0))
      throw new TypeError(`task ${task.name}: periodMs must be > 0, got ${task.periodMs}`);
    if (this.#entries.has(task.name)) throw new TypeError(`task ${task.name} is already scheduled`);
    const entry: Entry = {
      task,
      next: 0,
      timer: undefined,
      running: false,
      stats: { ticks: 0, late: 0, overruns: 0, missed: 0, errors: 0, maxLatenessMs: 0 },
    };
    this.#entries.set(task.name, entry);
    const points = this.#deps.points;
    if (points) {
      for (const counter of ['late', 'overruns', 'missed'] as const) {
        points.declare({ name: `control.${task.name}.${counter}`, unit: 'count' });
        points.update(`control.${task.name}.${counter}`, 0, 'scheduler');
      }
    }
    if (this.#started) this.#arm(entry, this.#deps.clock.monotonicMs());
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const now = this.#deps.clock.monotonicMs();
    for (const entry of this.#entries.values()) this.#arm(entry, now);
  }

  /** Stops scheduling; resolves when every running tick has finished. */
  async stop(): Promise<void> {
    this.#started = false;
    for (const entry of this.#entries.values()) entry.timer?.cancel();
    for (let i = 0; i < 100 && [...this.#entries.values()].some((e) => e.running); i++) {
      await new Promise((r) => setImmediate(r));
    }
  }

  stats(): TaskStats[] {
    return [...this.#entries.values()].map((e) => ({
      name: e.task.name,
      periodMs: e.task.periodMs,
      ...e.stats,
    }));
  }

  #arm(entry: Entry, firstDeadline: number): void {
    entry.next = firstDeadline;
    this.#schedule(entry);
  }

  #schedule(entry: Entry): void {
    const delay = entry.next - this.#deps.clock.monotonicMs();
    entry.timer = this.#deps.clock.setTimeout(() => this.#fire(entry), delay);
  }

  #fire(entry: Entry): void {
    if (!this.#started) return;
    const { clock } = this.#deps;
    const period = entry.task.periodMs;
    const deadline = entry.next;
    const now = clock.monotonicMs();
    if (now < deadline) {
      // A timer that fires early (clock granularity) waits out the rest; never runs a tick early.
      this.#schedule(entry);
      return;
    }
    // Skip whole periods lost to a blocked event loop: run once, late, never in a burst.
    const behind = Math.floor((now - deadline) / period);
    if (behind > 0) {
      entry.stats.missed += behind;
      this.#count(entry, 'missed');
    }
    entry.next = deadline + (behind + 1) * period;
    this.#schedule(entry);

    if (entry.running) {
      entry.stats.overruns++;
      this.#count(entry, 'overruns');
      return;
    }
    const lateness = now - (deadline + behind * period);
    entry.stats.maxLatenessMs = Math.max(entry.stats.maxLatenessMs, lateness);
    if (lateness > this.#lateAfterMs) {
      entry.stats.late++;
      this.#count(entry, 'late');
    }
    entry.stats.ticks++;
    entry.running = true;
    let result: void | Promise<void>;
    try {
      result = entry.task.run(deadline + behind * period);
    } catch (error) {
      this.#failed(entry, error);
      entry.running = false;
      return;
    }
    if (result instanceof Promise) {
      result
        .catch((error: unknown) => this.#failed(entry, error))
        .finally(() => {
          entry.running = false;
        });
    } else {
      entry.running = false;
    }
  }

  #failed(entry: Entry, error: unknown): void {
    entry.stats.errors++;
    if (entry.stats.errors === 1 || entry.stats.errors % 100 === 0) {
      this.#deps.log.error(
        { task: entry.task.name, err: errorMessage(error), errors: entry.stats.errors },
        'task tick failed',
      );
    }
  }

  #count(entry: Entry, counter: 'late' | 'overruns' | 'missed'): void {
    this.#deps.points?.update(`control.${entry.task.name}.${counter}`, entry.stats[counter], 'scheduler');
  }
}
