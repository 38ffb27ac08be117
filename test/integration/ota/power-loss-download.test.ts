/**
 * Power-loss trials, part 1 of 4: the power is cut while the payload is downloaded over HTTP and
 * written (the `write` step, random delays across the transfer). Every trial asserts, after the
 * device settles, what test/support/power-loss-trial.ts describes: only complete verified images are
 * ever booted, fw_printenv and the native reader agree, the running slot is primary and confirmed,
 * and the last report is the truth. With one cut per trial, every accepted update ends committed.
 */
import { expect } from 'vitest';
import { describePowerCuts } from '../../support/power-loss-trial.js';

describePowerCuts(
  'power cuts during the download and write',
  {
    cuts: 26,
    dirPrefix: 'ota-cut-dl-',
    seed: 0xd0a1,
    label: 'dl',
    source: () => 'http',
    cutPoint: (random) => ({ kind: 'step', step: 'write', delayMs: Math.floor(random() * 80) }),
    // 64 KiB every 6 ms: the 1 MiB write lasts ~100 ms, so cuts spread over it land before, between
    // and after its checkpoints on a busy test runner too (at full speed it is over in a few ms).
    trickle: { bytes: 64 * 1024, delayMs: 6 },
  },
  (series) => {
    expect(series.committed).toBe(series.trials);
    // Cuts land mid-transfer and the next boot resumes from the journaled chunk, not from zero.
    // With the trickle most do (20 of 26 here idle, 13 beside two CPU-bound processes); some must.
    expect(series.resumedWrites).toBeGreaterThan(0);
  },
);
