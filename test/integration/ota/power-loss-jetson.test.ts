/**
 * Power-loss trials with the `jetson` boot backend: the agent drives the scripted nvbootctrl
 * (test/support/fake-nvbootctrl.mjs) and the emulator plays the Jetson firmware at each power-on (retry
 * counter spent per boot, unbootable → the other slot). One cut in each step of the install and the
 * commit, alternately while nvbootctrl runs (it is in the killed process group) and later, between the
 * step's tool calls or after them. See test/support/power-loss-trial.ts for the assertions.
 */
import { expect } from 'vitest';
import { describePowerCuts, toolStepCut } from '../../support/power-loss-trial.js';

describePowerCuts(
  'power cuts with the jetson (nvbootctrl) boot backend',
  {
    cuts: 6,
    dirPrefix: 'ota-cut-jetson-',
    seed: 0x7e75,
    label: 'jetson',
    backend: 'jetson',
    source: (i) => (i % 2 === 0 ? 'file' : 'http'),
    cutPoint: toolStepCut,
  },
  (series) => {
    // Three boots of budget: one cut never costs the trial, so every accepted update commits.
    expect(series.committed).toBe(series.trials);
  },
);
