/**
 * Power-loss trials with the `efi` boot backend: the agent drives the fake efibootmgr
 * (test/support/fake-efibootmgr.mjs) and the emulator plays the UEFI boot manager at each power-on
 * (BootNext once, else BootOrder). One cut after each step of the install and commit — a few
 * milliseconds in, so most land while efibootmgr itself runs (it is in the killed process group) — and
 * two at random times in the trial boot. A cut in the trial boot before the commit falls back to A
 * (BootNext was spent by that boot), which the trial accepts for this backend only, reported as a
 * failed boot. See test/support/power-loss-trial.ts for the assertions.
 */
import { expect } from 'vitest';
import { describePowerCuts } from '../../support/power-loss-trial.js';

const STEPS = ['mark-target-bad', 'arm', 'reboot', 'check-health', 'commit', 'conclude'];

describePowerCuts(
  'power cuts with the efi (efibootmgr) boot backend',
  {
    cuts: 8,
    dirPrefix: 'ota-cut-efi-',
    seed: 0xef1,
    label: 'efi',
    backend: 'efi',
    source: (i) => (i % 2 === 0 ? 'file' : 'http'),
    cutPoint: (random, i) =>
      i < STEPS.length
        ? { kind: 'step', step: STEPS[i]!, delayMs: Math.floor(random() * 60) }
        : { kind: 'time', boot: 2, delayMs: 100 + Math.floor(random() * 500) },
  },
  (series) => {
    // BootNext gives the trial one boot: a cut in it before the commit rolls back (truthfully
    // reported), any other cut still commits.
    expect(series.committed + series.rolledBack).toBe(series.trials);
    // The cuts in the first boot (mark-target-bad, arm, reboot) leave the trial to come: they commit.
    expect(series.committed).toBeGreaterThanOrEqual(3);
  },
);
