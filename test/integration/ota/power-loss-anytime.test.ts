/**
 * Power-loss trials, part 4 of 4: the power is cut at a uniformly random time after the installer
 * process starts — in the first boot (startup, acceptance, every step up to the reboot request) or in
 * the trial boot (startup, health checks, commit) — so the cuts also land where no step is logged.
 * See test/support/power-loss-trial.ts for the assertions.
 */
import { expect } from 'vitest';
import { describePowerCuts } from '../../support/power-loss-trial.js';

describePowerCuts(
  'power cuts at random times',
  {
    cuts: 26,
    dirPrefix: 'ota-cut-any-',
    seed: 0xa11,
    label: 'any',
    source: (i) => (i % 2 === 0 ? 'http' : 'file'),
    // Startup takes ~150–200 ms on this kind of machine; the install itself ~60 ms after that.
    cutPoint: (random, i) =>
      i % 3 === 2
        ? { kind: 'time', boot: 2, delayMs: 120 + Math.floor(random() * 140) }
        : { kind: 'time', boot: 1, delayMs: 120 + Math.floor(random() * 180) },
  },
  (series) => {
    // A cut before the install was journaled leaves nothing to report: the device stays on A.
    expect(series.committed).toBeGreaterThan(0);
  },
);
