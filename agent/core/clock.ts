/**
 * Time, injected. Everything that waits, times out or stamps a reading asks a `Clock`, so control and
 * timeout logic can be tested deterministically with `FakeClock` (test/support/fake-clock.ts).
 *
 * Two time bases: the wall clock (`nowMs`, POSIX ms — wrong on a Pi until NTP syncs) and the monotonic
 * clock (`monotonicMs`, never jumps, meaningless across boots). Deadlines always use the monotonic one.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock time, POSIX milliseconds. May jump (NTP) and may be wrong on a board without an RTC. */
  nowMs(): number;
  /** Monotonic milliseconds since an arbitrary origin (fractional). Never goes backwards. */
  monotonicMs(): number;
  /** Calls `fn` once after `delayMs` monotonic milliseconds. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Calls `fn` every `periodMs`; the next call is scheduled from the previous deadline, not from now. */
  setInterval(fn: () => void, periodMs: number): TimerHandle;
  /** Resolves after `delayMs`; rejects with the signal's reason if aborted first. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/** The longest delay Node's setTimeout takes as given. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SystemClock implements Clock {
  nowMs(): number {
    return Date.now();
  }

  monotonicMs(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    // Node truncates a fractional delay, which would fire up to 1 ms before a deadline: round up. It
    // also fires a delay above 2^31-1 ms (~24.8 days) after 1 ms: such a wait is taken in steps.
    // An infinite (or NaN) delay never fires.
    if (Number.isNaN(delayMs) || delayMs === Number.POSITIVE_INFINITY) return { cancel: () => undefined };
    let remaining = Math.max(0, Math.ceil(delayMs));
    let t: NodeJS.Timeout;
    const arm = () => {
      const step = Math.min(remaining, MAX_TIMER_MS);
      remaining -= step;
      t = setTimeout(remaining > 0 ? arm : fn, step);
    };
    arm();
    return { cancel: () => clearTimeout(t) };
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    if (!(periodMs > 0)) throw new TypeError(`periodMs must be > 0, got ${periodMs}`);
    // Re-arm from the absolute deadline so that a slow callback does not make the period drift.
    let deadline = this.monotonicMs() + periodMs;
    let handle: TimerHandle;
    let cancelled = false;
    const arm = () => {
      handle = this.setTimeout(tick, deadline - this.monotonicMs());
    };
    const tick = () => {
      if (cancelled) return;
      deadline += periodMs;
      const now = this.monotonicMs();
      if (deadline < now) deadline = now + periodMs; // skip missed ticks rather than bursting
      arm();
      fn();
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        handle.cancel();
      },
    };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }
}

/** `sleep` for any clock: one implementation so the fake and the real one abort alike. */
export function sleepOn(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
