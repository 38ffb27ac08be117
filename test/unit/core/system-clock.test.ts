import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const DAY_MS = 86_400_000;

it('waits the whole of a delay longer than Node timers take (2^31-1 ms), not 1 ms', () => {
  const fired = vi.fn();
  new SystemClock().setTimeout(fired, 30 * DAY_MS);
  vi.advanceTimersByTime(25 * DAY_MS);
  expect(fired).not.toHaveBeenCalled();
  vi.advanceTimersByTime(5 * DAY_MS - 1);
  expect(fired).not.toHaveBeenCalled();
  vi.advanceTimersByTime(1);
  expect(fired).toHaveBeenCalledOnce();
});

it('cancels a long wait in any of its steps, and never fires an infinite one', () => {
  const clock = new SystemClock();
  const fired = vi.fn();
  const handle = clock.setTimeout(fired, 60 * DAY_MS);
  vi.advanceTimersByTime(26 * DAY_MS); // past the first step
  handle.cancel();
  clock.setTimeout(fired, Number.POSITIVE_INFINITY);
  vi.advanceTimersByTime(100 * DAY_MS);
  expect(fired).not.toHaveBeenCalled();
});

it('never fires a fractional delay early', () => {
  const fired = vi.fn();
  new SystemClock().setTimeout(fired, 10.2);
  vi.advanceTimersByTime(10);
  expect(fired).not.toHaveBeenCalled();
  vi.advanceTimersByTime(1);
  expect(fired).toHaveBeenCalledOnce();
});
