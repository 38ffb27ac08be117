/**
 * Power-loss trials, part 2 of 4: the power is cut around the boot-environment updates of the first
 * boot — marking the target bad before writing, and arming it as primary for the trial — including
 * cuts while `fw_setenv` itself runs (it is in the killed process group). See
 * test/support/power-loss-trial.ts for the assertions made after each trial.
 */
import { expect } from 'vitest';
import { describePowerCuts } from '../../support/power-loss-trial.js';

const STEPS = ['mark-target-bad', 'arm', 'reboot'];

describePowerCuts(
  'power cuts during boot-environment updates',
  {
    cuts: 26,
    dirPrefix: 'ota-cut-env-',
    seed: 0xe4e4,
    label: 'env',
    source: (i) => (i % 3 === 0 ? 'http' : 'file'),
    cutPoint: (random, i) => ({
      kind: 'step',
      step: STEPS[i % STEPS.length]!,
      delayMs: Math.floor(random() * 12),
    }),
  },
  (series) => {
    expect(series.committed).toBe(series.trials);
  },
);
