/**
 * Power-loss trials, part 2 of 4: the power is cut around the boot-environment updates of the first
 * boot — marking the target bad before writing, and arming it as primary for the trial — including
 * cuts while `fw_setenv` itself runs (it is in the killed process group). See
 * test/support/power-loss-trial.ts for the assertions made after each trial.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadServer } from '../../support/payload-server.js';
import { runTrialSeries } from '../../support/power-loss-trial.js';
import { tempDirs } from '../../support/temp-dir.js';

const CUTS = 26;
const newDir = tempDirs('ota-cut-env-');
const STEPS = ['mark-target-bad', 'arm', 'reboot'];

describe('power cuts during boot-environment updates', () => {
  const server = new PayloadServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it(`leave a bootable, truthfully reported device after each of ${CUTS} cuts`, {
    timeout: 58_000,
  }, async () => {
    const series = await runTrialSeries({
      cuts: CUTS,
      seed: 0xe4e4,
      newDir,
      server,
      label: 'env',
      source: (i) => (i % 3 === 0 ? 'http' : 'file'),
      cutPoint: (random, i) => ({
        kind: 'step',
        step: STEPS[i % STEPS.length]!,
        delayMs: Math.floor(random() * 12),
      }),
    });
    expect(series.cuts).toBe(CUTS);
    expect(series.committed).toBe(series.trials);
  });
});
