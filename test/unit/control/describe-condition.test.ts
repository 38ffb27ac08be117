/** A rule's condition in words, as `rules` shows it on the console. */
import { describe, expect, it } from 'vitest';
import { describeRule } from '../../../agent/control/describe-condition.js';

describe('a rule condition in words', () => {
  it.each([
    [
      { when: { point: 'chamber.temp', above: 70, hysteresis: 5 }, forMs: 2000 },
      'chamber.temp > 70 (hyst 5) for 2 s',
    ],
    [{ when: { point: 'coolant.flow', below: 0.1 } }, 'coolant.flow < 0.1'],
    [{ when: { point: 'cabinet.door', is: true }, forMs: 500 }, 'cabinet.door is true for 500 ms'],
    [
      {
        when: {
          any: [
            { point: 'air.pm2_5', above: 3.5e-8 },
            { point: 'air.pm10', quality: 'stale' as const },
          ],
        },
      },
      'any(air.pm2_5 > 3.5e-8, air.pm10 stale)',
    ],
    [
      { when: { not: { point: 'chamber.temp', risingFaster: 0.5, overMs: 60_000 } } },
      'not(chamber.temp rising > 0.5/s over 60 s)',
    ],
  ])('%j reads %s', (rule, text) => {
    expect(describeRule(rule)).toBe(text);
  });
});
