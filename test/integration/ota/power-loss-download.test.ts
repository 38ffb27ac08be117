/**
 * Power-loss trials, part 1 of 4: the power is cut while the payload is downloaded over HTTP and
 * written (the `write` step, random delays across the transfer). Every trial asserts, after the
 * device settles, what test/support/power-loss-trial.ts describes: only complete verified images are
 * ever booted, fw_printenv and the native reader agree, the running slot is primary and confirmed,
 * and the last report is the truth. With one cut per trial, every accepted update ends committed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadServer } from '../../support/payload-server.js';
import { runTrialSeries } from '../../support/power-loss-trial.js';
import { tempDirs } from '../../support/temp-dir.js';

const CUTS = 26;
const newDir = tempDirs('ota-cut-dl-');

describe('power cuts during the download and write', () => {
  const server = new PayloadServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it(`leave a bootable, truthfully reported device after each of ${CUTS} cuts`, {
    timeout: 58_000,
  }, async () => {
    const series = await runTrialSeries({
      cuts: CUTS,
      seed: 0xd0a1,
      newDir,
      server,
      label: 'dl',
      source: () => 'http',
      cutPoint: (random) => ({ kind: 'step', step: 'write', delayMs: Math.floor(random() * 80) }),
      // 64 KiB every 6 ms: the 1 MiB write lasts ~100 ms, so cuts spread over it land before, between
      // and after its checkpoints on a busy test runner too (at full speed it is over in a few ms).
      trickle: { bytes: 64 * 1024, delayMs: 6 },
    });
    expect(series.cuts).toBe(CUTS);
    expect(series.committed).toBe(series.trials);
    // Cuts land mid-transfer and the next boot resumes from the journaled chunk, not from zero.
    // With the trickle most do (20 of 26 here idle, 13 beside two CPU-bound processes); some must.
    expect(series.resumedWrites).toBeGreaterThan(0);
  });
});
