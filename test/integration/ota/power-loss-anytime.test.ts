/**
 * Power-loss trials, part 4 of 4: the power is cut at a uniformly random time after the installer
 * process starts — in the first boot (startup, acceptance, every step up to the reboot request) or in
 * the trial boot (startup, health checks, commit) — so the cuts also land where no step is logged.
 * See test/support/power-loss-trial.ts for the assertions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayloadServer } from '../../support/payload-server.js';
import { runTrialSeries } from '../../support/power-loss-trial.js';
import { tempDirs } from '../../support/temp-dir.js';

const CUTS = 26;
const newDir = tempDirs('ota-cut-any-');

describe('power cuts at random times', () => {
  const server = new PayloadServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it(`leave a bootable, truthfully reported device after each of ${CUTS} cuts`, {
    timeout: 58_000,
  }, async () => {
    const series = await runTrialSeries({
      cuts: CUTS,
      seed: 0xa11,
      newDir,
      server,
      label: 'any',
      source: (i) => (i % 2 === 0 ? 'http' : 'file'),
      // Startup takes ~150–200 ms on this kind of machine; the install itself ~60 ms after that.
      cutPoint: (random, i) =>
        i % 3 === 2
          ? { kind: 'time', boot: 2, delayMs: 120 + Math.floor(random() * 140) }
          : { kind: 'time', boot: 1, delayMs: 120 + Math.floor(random() * 180) },
    });
    expect(series.cuts).toBe(CUTS);
    // A cut before the install was journaled leaves nothing to report: the device stays on A.
    expect(series.committed).toBeGreaterThan(0);
  });
});
