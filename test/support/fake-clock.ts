/**
 * A deterministic `Clock` for tests: time moves only when the test calls `advance(ms)`, and timers fire
 * in deadline order as it passes them (each callback sees `monotonicMs()` equal to its own deadline).
 */
import { type Clock, sleepOn, type TimerHandle } from '../../agent/core/clock.js';

interface Timer {
  id: number;
  due: number;
  fn: () => void;
  periodMs: number | undefined;
}

export class FakeClock implements Clock {
  #mono: number;
  #wallOffset: number;
  #timers: Timer[] = [];
  #nextId = 1;

  constructor(options: { wallMs?: number; monoMs?: number } = {}) {
    this.#mono = options.monoMs ?? 1_000;
    this.#wallOffset = (options.wallMs ?? Date.UTC(2026, 0, 1)) - this.#mono;
  }

  nowMs(): number {
    return Math.floor(this.#mono + this.#wallOffset);
  }

  monotonicMs(): number {
    return this.#mono;
  }

  /** Steps the wall clock alone (an NTP correction); monotonic time is unaffected. */
  setWallMs(wallMs: number): void {
    this.#wallOffset = wallMs - this.#mono;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.#add(fn, Math.max(0, delayMs), undefined);
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    if (!(periodMs > 0)) throw new TypeError(`periodMs must be > 0, got ${periodMs}`);
    return this.#add(fn, periodMs, periodMs);
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }

  /**
   * Moves time forward *without* firing timers, as a blocked event loop does; overdue timers fire at
   * the next `advance`, each seeing the later time (so their lateness shows).
   */
  jump(ms: number): void {
    this.#mono += ms;
  }

  /** Number of pending timers (for asserting that a component cleaned up after itself). */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Between timers it yields to the microtask
   * queue so that promise chains started by a callback (an awaited bus read) run at that instant.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#mono + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.#timers.reduce<Timer | undefined>((a, t) => (!a || t.due < a.due ? t : a), undefined);
      if (!next || next.due > target) break;
      this.#mono = Math.max(this.#mono, next.due);
      if (next.periodMs !== undefined) next.due += next.periodMs;
      else this.#timers = this.#timers.filter((t) => t !== next);
      next.fn();
    }
    this.#mono = target;
    await flushMicrotasks();
  }

  /** Advances in steps of `stepMs` (lets I/O-free async chains settle between steps). */
  async run(totalMs: number, stepMs = 10): Promise<void> {
    for (let t = 0; t < totalMs; t += stepMs) await this.advance(Math.min(stepMs, totalMs - t));
  }

  /**
   * Advances time `stepMs` at a time until `promise` settles, then resolves or rejects as it did: for
   * code that sleeps on this clock between steps (a driver waiting out a conversion between bus
   * transactions), whose total wait the test should not have to know. Time moves at least one step.
   * Rejects with an `Error` if `promise` is still pending after `maxMs` of fake time, rather than
   * leaving the test to hang until its real-time timeout.
   */
  async settle<T>(promise: Promise<T>, maxMs = 1_000, stepMs = 1): Promise<T> {
    if (!(stepMs > 0)) throw new TypeError(`stepMs must be > 0, got ${stepMs}`);
    let settled = false;
    const mark = () => {
      settled = true;
    };
    promise.then(mark, mark);
    for (let t = 0; !settled && t < maxMs; t += stepMs) await this.advance(Math.min(stepMs, maxMs - t));
    if (!settled) throw new Error(`promise still pending after ${maxMs} ms of fake time`);
    return promise;
  }

  #add(fn: () => void, delayMs: number, periodMs: number | undefined): TimerHandle {
    const timer: Timer = { id: this.#nextId++, due: this.#mono + delayMs, fn, periodMs };
    this.#timers.push(timer);
    return { cancel: () => (this.#timers = this.#timers.filter((t) => t !== timer)) };
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
