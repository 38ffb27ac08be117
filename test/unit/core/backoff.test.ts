import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../agent/core/backoff.js';

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
