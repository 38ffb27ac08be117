/**
 * Power-loss trials with the `jetson` boot backend: the agent drives the fake nvbootctrl
 * (test/support/fake-nvbootctrl.mjs) and the emulator plays the Jetson firmware at each power-on
 * (retry counter spent per boot, unbootable → the other slot). One cut after each step of the install
 * and commit — a few milliseconds in, so most land while nvbootctrl itself runs (it is in the killed
 * process group) — and two at random times in the trial boot (startup, health checks, commit). See
 * test/support/power-loss-trial.ts for the assertions.
 */
import { expect } from 'vitest';
import { describePowerCuts } from '../../support/power-loss-trial.js';

const STEPS = ['mark-target-bad', 'arm', 'reboot', 'check-health', 'commit', 'conclude'];

describePowerCuts(
  'power cuts with the jetson (nvbootctrl) boot backend',
  {
    cuts: 8,
    dirPrefix: 'ota-cut-jetson-',
    seed: 0x7e75,
    label: 'jetson',
    backend: 'jetson',
    source: (i) => (i % 2 === 0 ? 'file' : 'http'),
    cutPoint: (random, i) =>
      i < STEPS.length
        ? { kind: 'step', step: STEPS[i]!, delayMs: Math.floor(random() * 60) }
        : { kind: 'time', boot: 2, delayMs: 100 + Math.floor(random() * 500) },
  },
  (series) => {
    // Three boots of budget: one cut never costs the trial, so every accepted update commits.
    expect(series.committed).toBe(series.trials);
  },
);
