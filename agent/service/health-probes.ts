/**
 * Health probes for the watchdog. The event loop probe runs a short timer and remembers the worst
 * lateness since the last check: a loop that was blocked for longer than `maxLagMs` (a synchronous
 * hash over a big file, a runaway regex) fails one check. The scheduler probe fails when a control
 * task has not ticked for three of its periods (at least `graceMs`) — a stopped or wedged scheduler,
 * or a tick that never returns (an `await` on a bus that hangs).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { HealthProbe } from './watchdog.js';

export class EventLoopProbe implements HealthProbe {
  readonly name = 'event loop';
  readonly #clock: Clock;
  readonly #sampleMs: number;
  readonly #maxLagMs: number;
  #timer: TimerHandle | undefined;
  #worstLagMs = 0;

  constructor(clock: Clock, options: { sampleMs?: number; maxLagMs?: number } = {}) {
    this.#clock = clock;
    this.#sampleMs = options.sampleMs ?? 100;
    this.#maxLagMs = options.maxLagMs ?? 1000;
  }

  start(): void {
    if (this.#timer) return;
    const arm = () => {
      const due = this.#clock.monotonicMs() + this.#sampleMs;
      this.#timer = this.#clock.setTimeout(() => {
        this.#worstLagMs = Math.max(this.#worstLagMs, this.#clock.monotonicMs() - due);
        arm();
      }, this.#sampleMs);
    };
    arm();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  check(): string | undefined {
    const worst = this.#worstLagMs;
    this.#worstLagMs = 0;
    if (!this.#timer) return 'not monitored';
    return worst > this.#maxLagMs ? `blocked for ${Math.round(worst)} ms` : undefined;
  }
}

/** What the probe needs of the control scheduler (`Scheduler.stats()`). */
export interface TaskCounters {
  readonly name: string;
  readonly periodMs: number;
  readonly ticks: number;
}

export class SchedulerProbe implements HealthProbe {
  readonly name = 'control scheduler';
  readonly #clock: Clock;
  readonly #stats: () => readonly TaskCounters[];
  readonly #graceMs: number;
  readonly #seen = new Map<string, { ticks: number; atMs: number }>();

  constructor(clock: Clock, stats: () => readonly TaskCounters[], options: { graceMs?: number } = {}) {
    this.#clock = clock;
    this.#stats = stats;
    this.#graceMs = options.graceMs ?? 5000;
  }

  check(): string | undefined {
    const now = this.#clock.monotonicMs();
    const stalled: string[] = [];
    for (const task of this.#stats()) {
      const seen = this.#seen.get(task.name);
      if (!seen || seen.ticks !== task.ticks) {
        this.#seen.set(task.name, { ticks: task.ticks, atMs: now });
        continue;
      }
      const silentMs = now - seen.atMs;
      if (silentMs > Math.max(3 * task.periodMs, this.#graceMs))
        stalled.push(`${task.name} (${Math.round(silentMs)} ms)`);
    }
    return stalled.length > 0 ? `no tick from ${stalled.join(', ')}` : undefined;
  }
}
