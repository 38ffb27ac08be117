/**
 * Power-loss trials, adaptive: the new image keeps most of the factory image's chunks, so the write
 * step copies them from the running slot and fetches only the changed ones (three of eight, two of
 * them adjacent) over HTTP, trickled. The power is cut at random points across that step; every trial
 * must settle as test/support/power-loss-trial.ts describes — only complete verified images booted,
 * the environment consistent, the last report the truth — and every accepted update ends committed,
 * whichever source the chunks written before the cut came from.
 */
import { expect } from 'vitest';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { describePowerCuts, TRIAL_CHUNK_BYTES } from '../../support/power-loss-trial.js';

describePowerCuts(
  'power cuts during an adaptive download and write',
  {
    cuts: 16,
    dirPrefix: 'ota-cut-adaptive-',
    seed: 0xada7,
    label: 'adaptive',
    source: () => 'http',
    cutPoint: (random) => ({ kind: 'step', step: 'write', delayMs: Math.floor(random() * 60) }),
    trickle: { bytes: 32 * 1024, delayMs: 6 },
    image: (factory) => {
      const next = Buffer.from(factory);
      for (const i of [2, 3, 6])
        fakeImage(`adaptive ${i}`, TRIAL_CHUNK_BYTES).copy(next, i * TRIAL_CHUNK_BYTES);
      return next;
    },
  },
  (series) => {
    expect(series.committed).toBe(series.trials);
    expect(series.adaptiveTrials).toBe(series.trials);
  },
);
