/**
 * Power-loss trials, part 3 of 4: the power is cut during the trial boot — while the health checks
 * run, while the slot is committed (boot environment and committed seq), and while the final report
 * is queued and the journal cleared. See test/support/power-loss-trial.ts for the assertions.
 */
import { expect } from 'vitest';
import { describePowerCuts } from '../../support/power-loss-trial.js';

const STEPS = ['check-health', 'commit', 'conclude'];

describePowerCuts(
  'power cuts during the trial boot and commit',
  {
    cuts: 26,
    dirPrefix: 'ota-cut-commit-',
    seed: 0xc0c0,
    label: 'commit',
    source: (i) => (i % 2 === 0 ? 'file' : 'http'),
    cutPoint: (random, i) => ({
      kind: 'step',
      step: STEPS[i % STEPS.length]!,
      delayMs: Math.floor(random() * 14),
    }),
  },
  (series) => {
    expect(series.committed).toBe(series.trials);
  },
);
