import { describe, expect, it } from 'vitest';
import { Backoff, withBackoff } from '../../../agent/core/backoff.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('Backoff', () => {
  it('doubles from base up to the cap without jitter', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('keeps full-jitter delays within [0, ceiling]', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.999 });
    expect(b.next()).toBeCloseTo(0.1, 5);
    const c = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
    expect(c.next()).toBe(100);
  });

  it('rejects nonsensical options', () => {
    expect(() => new Backoff({ baseMs: 0 })).toThrow(TypeError);
    expect(() => new Backoff({ baseMs: 10, maxMs: 5 })).toThrow(TypeError);
  });
});

describe('withBackoff', () => {
  it('retries until the operation succeeds, sleeping between attempts', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const done = withBackoff(
      async () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
        return 'ok';
      },
      { clock, baseMs: 100, jitter: 0 },
    );
    await clock.advance(99);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    await clock.advance(200);
    await expect(done).resolves.toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = new FakeClock();
    const done = withBackoff(
      async (n) => {
        throw new Error(`fail ${n}`);
      },
      { clock, baseMs: 10, jitter: 0, maxAttempts: 2 },
    );
    const settled = expect(done).rejects.toThrow('fail 1');
    await clock.advance(10);
    await settled;
  });

  it('stops at once when a permanent error is not to be retried', async () => {
    const clock = new FakeClock();
    await expect(
      withBackoff(
        async () => {
          throw new TypeError('bad argument');
        },
        { clock, shouldRetry: (e) => !(e instanceof TypeError) },
      ),
    ).rejects.toThrow(TypeError);
  });

  it('rejects with the abort reason when aborted while waiting', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const done = withBackoff(
      async () => {
        throw new Error('down');
      },
      { clock, baseMs: 1000, jitter: 0, signal: controller.signal },
    );
    await clock.advance(10);
    controller.abort(new Error('stopping'));
    await expect(done).rejects.toThrow('stopping');
  });
});
