/**
 * Power-loss trials, part 3 of 4: the power is cut during the trial boot — while the health checks
 * run, while the slot is committed (boot environment and committed seq), and while the final report
 * is queued and the journal cleared. See test/support/power-loss-trial.ts for the assertions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadServer } from '../../support/payload-server.js';
import { runTrialSeries } from '../../support/power-loss-trial.js';
import { tempDirs } from '../../support/temp-dir.js';

const CUTS = 26;
const newDir = tempDirs('ota-cut-commit-');
const STEPS = ['check-health', 'commit', 'conclude'];

describe('power cuts during the trial boot and commit', () => {
  const server = new PayloadServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it(`leave a bootable, truthfully reported device after each of ${CUTS} cuts`, {
    timeout: 58_000,
  }, async () => {
    const series = await runTrialSeries({
      cuts: CUTS,
      seed: 0xc0c0,
      newDir,
      server,
      label: 'commit',
      source: (i) => (i % 2 === 0 ? 'file' : 'http'),
      cutPoint: (random, i) => ({
        kind: 'step',
        step: STEPS[i % STEPS.length]!,
        delayMs: Math.floor(random() * 14),
      }),
    });
    expect(series.cuts).toBe(CUTS);
    expect(series.committed).toBe(series.trials);
  });
});
