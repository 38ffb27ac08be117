/**
 * Time-proportioning output ("slow PWM"): turns a continuous duty into on/off for a relay or SSR, the
 * way Beauregard's PID_RelayOutput example and every panel temperature controller drive a heater. Time is
 * cut into fixed windows; within each window the relay is on from the window start until the on-time
 * delivered in this window reaches duty·window, then off until the next window.
 *
 * The on-time already delivered is counted, not re-derived from the elapsed time, so a duty change in
 * mid-window applies to the remainder of that window without double-counting: raising the duty after
 * the pulse ended adds only the shortfall (a second pulse), lowering it ends the pulse as soon as the new
 * target is met. Resolution is the caller's tick: the relay changes state only when `update` is called,
 * so an on-time is rounded up to whole ticks — call it several times per window (e.g. 100 ms ticks for a
 * 10 s window) or the per-window error is one tick.
 *
 * Contact protection (relay life is counted in operations): a planned pulse shorter than `minOnMs` is
 * *skipped* (the relay stays off the whole window) and a planned gap shorter than `minOffMs` is *skipped*
 * too (the relay stays on through it); a pulse already started is *extended* to `minOnMs` and a gap
 * already started to `minOffMs`, because they cannot be undone. This makes the effective duty 0 below
 * minOn/window and 1 above 1 − minOff/window; a PID around it absorbs that dead band in its integral.
 */

export interface TimeProportionerOptions {
  readonly windowMs: number;
  /** Shortest on period the relay may make (default 0). */
  readonly minOnMs?: number;
  /** Shortest off period the relay may make (default 0). */
  readonly minOffMs?: number;
  /** The value that means "always on": 1 for a 0–1 duty (default), 100 for percent. */
  readonly dutyFullScale?: number;
}

export class TimeProportioner {
  readonly #windowMs: number;
  readonly #minOnMs: number;
  readonly #minOffMs: number;
  readonly #fullScale: number;
  #windowStartMs: number | undefined;
  #lastUpdateMs = 0;
  #deliveredOnMs = 0;
  #isOn = false;
  /** When the relay last changed state; -Infinity so the first switch is never held back. */
  #lastSwitchMs = Number.NEGATIVE_INFINITY;

  constructor(options: TimeProportionerOptions) {
    const { windowMs } = options;
    const minOnMs = options.minOnMs ?? 0;
    const minOffMs = options.minOffMs ?? 0;
    const fullScale = options.dutyFullScale ?? 1;
    if (!(Number.isFinite(windowMs) && windowMs > 0))
      throw new TypeError(`windowMs must be > 0, got ${windowMs}`);
    if (!(Number.isFinite(minOnMs) && minOnMs >= 0))
      throw new TypeError(`minOnMs must be >= 0, got ${minOnMs}`);
    if (!(Number.isFinite(minOffMs) && minOffMs >= 0)) {
      throw new TypeError(`minOffMs must be >= 0, got ${minOffMs}`);
    }
    if (minOnMs + minOffMs > windowMs) {
      throw new TypeError(`minOnMs + minOffMs must be <= windowMs (${minOnMs} + ${minOffMs} > ${windowMs})`);
    }
    if (!(Number.isFinite(fullScale) && fullScale > 0)) {
      throw new TypeError(`dutyFullScale must be > 0, got ${fullScale}`);
    }
    this.#windowMs = windowMs;
    this.#minOnMs = minOnMs;
    this.#minOffMs = minOffMs;
    this.#fullScale = fullScale;
  }

  get isOn(): boolean {
    return this.#isOn;
  }

  /** Start of the current window (monotonic ms), undefined before the first update. */
  get windowStartMs(): number | undefined {
    return this.#windowStartMs;
  }

  /** On-time delivered so far in the current window, as of the last update. */
  get onTimeInWindowMs(): number {
    return this.#deliveredOnMs;
  }

  /**
   * Call every loop tick with the current duty (clamped to 0..dutyFullScale) and monotonic time; returns
   * whether the relay should be on until the next call. The first call starts the first window.
   */
  update(duty: number, nowMonoMs: number): boolean {
    if (typeof duty !== 'number' || Number.isNaN(duty))
      throw new TypeError(`duty must be a number, got ${duty}`);
    if (!Number.isFinite(nowMonoMs)) throw new TypeError(`nowMonoMs must be finite, got ${nowMonoMs}`);
    if (this.#windowStartMs === undefined) {
      this.#windowStartMs = nowMonoMs;
      this.#lastUpdateMs = nowMonoMs;
    }
    if (nowMonoMs < this.#lastUpdateMs) {
      throw new TypeError(`nowMonoMs went backwards (${nowMonoMs} < ${this.#lastUpdateMs})`);
    }
    this.#advance(nowMonoMs);

    const fraction = Math.min(1, Math.max(0, duty / this.#fullScale));
    let targetMs = fraction * this.#windowMs;
    if (targetMs < this.#minOnMs) targetMs = 0; // too short a pulse: skip it
    if (this.#windowMs - targetMs < this.#minOffMs) targetMs = this.#windowMs; // too short a gap: fill it
    const sinceSwitchMs = nowMonoMs - this.#lastSwitchMs;
    let want: boolean;
    if (this.#isOn) {
      // A started pulse runs at least minOn (it cannot be skipped any more).
      want = this.#deliveredOnMs < targetMs || sinceSwitchMs < this.#minOnMs;
    } else {
      // A new pulse needs the gap to have lasted minOff and enough shortfall left to last minOn.
      want =
        sinceSwitchMs >= this.#minOffMs &&
        targetMs - this.#deliveredOnMs > 0 &&
        targetMs - this.#deliveredOnMs >= this.#minOnMs;
    }
    if (want !== this.#isOn) {
      this.#isOn = want;
      this.#lastSwitchMs = nowMonoMs;
    }
    return want;
  }

  /** Credits the time since the last update to the window(s) it fell in. */
  #advance(nowMonoMs: number): void {
    const start = this.#windowStartMs as number;
    const windowEndMs = start + this.#windowMs;
    if (nowMonoMs < windowEndMs) {
      if (this.#isOn) this.#deliveredOnMs += nowMonoMs - this.#lastUpdateMs;
    } else {
      // Roll over (possibly several windows if the caller stalled): windows stay on their grid.
      const newStart = start + Math.floor((nowMonoMs - start) / this.#windowMs) * this.#windowMs;
      this.#windowStartMs = newStart;
      this.#deliveredOnMs = this.#isOn ? nowMonoMs - Math.max(newStart, this.#lastUpdateMs) : 0;
    }
    this.#lastUpdateMs = nowMonoMs;
  }
}
