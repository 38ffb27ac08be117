import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../agent/telemetry/token-bucket.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('TokenBucket', () => {
  it('allows a burst, then the configured rate, paying a batch-sized debt before the next take', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(clock, 1000, 500);
    expect(bucket.take(2000)).toBe(true); // a batch bigger than the burst goes whole…
    expect(bucket.take(1)).toBe(false); // …and leaves a debt of 1500
    expect(bucket.msUntilAvailable()).toBeCloseTo(1500, 0);
    await clock.advance(1499);
    expect(bucket.take(1)).toBe(false);
    await clock.advance(2);
    expect(bucket.take(1)).toBe(true);
  });

  it('never accrues more than the burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(clock, 1000, 100);
    await clock.advance(60_000);
    expect(bucket.tokens).toBe(100);
  });

  it('rejects a non-positive rate or burst', () => {
    expect(() => new TokenBucket(new FakeClock(), 0, 1)).toThrow(
      new TypeError('ratePerS must be > 0, got 0'),
    );
    expect(() => new TokenBucket(new FakeClock(), 1, 0)).toThrow(new TypeError('burst must be > 0, got 0'));
  });
});
