import { describe, expect, it } from 'vitest';
import {
  type AutotuneResult,
  type AutotuneStep,
  RelayAutotuner,
  type RelayAutotunerOptions,
  type TuningRule,
  tuningsFromUltimate,
  ultimateFromFopdt,
} from '../../../agent/control/autotune.js';
import { Pid } from '../../../agent/control/pid.js';
import { seededRandom } from '../../../agent/hal/sim/random.js';
import {
  DEFAULT_THERMAL_PLANT,
  ThermalPlant,
  type ThermalPlantParams,
} from '../../../agent/hal/sim/thermal-plant.js';

function plant(overrides: Partial<ThermalPlantParams>, seed = 7): ThermalPlant {
  return new ThermalPlant(
    { ...DEFAULT_THERMAL_PLANT, noiseC: 0, driftC: 0, ...overrides },
    seededRandom(seed),
  );
}

/**
 * Runs the relay in closed loop around the plant, one sample per `dtS`, from a chamber already at rest at
 * ambient, until the autotuner finishes or gives up.
 */
function autotune(
  p: ThermalPlant,
  options: RelayAutotunerOptions,
  dtS = 1,
): Exclude<AutotuneStep, { output: number }> {
  const tuner = new RelayAutotuner(options);
  for (let tMs = 0; ; tMs += dtS * 1000) {
    const r = tuner.step(p.measure().temperatureC, tMs);
    if (!('output' in r)) return r;
    p.step(dtS, r.output);
  }
}

function done(r: AutotuneStep): AutotuneResult {
  if (!('done' in r)) throw new Error(`autotune did not finish: ${JSON.stringify(r)}`);
  return r.done;
}

const errorPct = (measured: number, exact: number) => (measured / exact - 1) * 100;

/** Relay of ±0.3 duty around the duty that holds 50 °C, hysteresis 0.1 K, 4 cycles after the first. */
function relayAt50(gainC: number, overrides: Partial<RelayAutotunerOptions> = {}): RelayAutotunerOptions {
  return {
    setpoint: 50,
    bias: (50 - 21) / gainC,
    amplitude: 0.3,
    hysteresis: 0.1,
    cycles: 4,
    maxDurationMs: 4 * 3600_000,
    ...overrides,
  };
}

describe('ultimateFromFopdt', () => {
  it('solves θω + atan(τω) = π and returns Ku = √(1 + (τω)²)/|K|, Pu = 2π/ω', () => {
    for (const [gain, tauS, deadTimeS] of [
      [60, 240, 10],
      [1, 1, 1],
      [-30, 100, 45],
      [2, 10, 500],
    ] as const) {
      const { ku, puS } = ultimateFromFopdt({ gain, tauS, deadTimeS });
      const omega = (2 * Math.PI) / puS;
      expect(deadTimeS * omega + Math.atan(tauS * omega)).toBeCloseTo(Math.PI, 12);
      expect(ku).toBeCloseTo(Math.sqrt(1 + (tauS * omega) ** 2) / Math.abs(gain), 12);
    }
    // τ = θ = 1, K = 1: x + atan x = π at x = 2.0288; Ku = 2.2618, Pu = 3.0970.
    const unit = ultimateFromFopdt({ gain: 1, tauS: 1, deadTimeS: 1 });
    expect(unit.ku).toBeCloseTo(2.2618, 4);
    expect(unit.puS).toBeCloseTo(3.097, 3);
  });

  it('rejects a plant without dead time (infinite ultimate gain) or without gain', () => {
    expect(() => ultimateFromFopdt({ gain: 1, tauS: 10, deadTimeS: 0 })).toThrow(/deadTimeS/);
    expect(() => ultimateFromFopdt({ gain: 0, tauS: 10, deadTimeS: 1 })).toThrow(/gain/);
    expect(() => ultimateFromFopdt({ gain: 1, tauS: -1, deadTimeS: 1 })).toThrow(/tauS/);
  });
});

describe('tuningsFromUltimate', () => {
  it.each<[TuningRule, number, number, number]>([
    // rule, Kp/Ku, Ti/Pu, Td/Pu
    ['ziegler-nichols-pid', 0.6, 0.5, 0.125],
    ['tyreus-luyben-pi', 1 / 3.2, 2.2, 0],
    ['tyreus-luyben-pid', 1 / 2.2, 2.2, 1 / 6.3],
    ['no-overshoot', 0.2, 0.5, 1 / 3],
  ])('applies the %s rule as ki = kp/Ti, kd = kp·Td', (rule, kpRatio, tiRatio, tdRatio) => {
    const t = tuningsFromUltimate(2, 40, rule);
    expect(t.kp).toBeCloseTo(2 * kpRatio, 12);
    expect(t.ki).toBeCloseTo((2 * kpRatio) / (40 * tiRatio), 12);
    expect(t.kd).toBeCloseTo(2 * kpRatio * 40 * tdRatio, 12);
  });

  it('rejects a non-positive Ku or Pu and an unknown rule', () => {
    expect(() => tuningsFromUltimate(0, 40, 'tyreus-luyben-pi')).toThrow(/ku/);
    expect(() => tuningsFromUltimate(1, Number.NaN, 'tyreus-luyben-pi')).toThrow(/puS/);
    expect(() => tuningsFromUltimate(1, 40, 'cohen-coon' as TuningRule)).toThrow(/rule/);
  });
});

describe('RelayAutotuner on FOPDT plants (τ = 100 s, K = 60 K, 1 s samples)', () => {
  // The describing function (Ku = 4d/(π·√(a² − ε²))) is exact only for a sinusoidal input. For FOPDT
  // plants its known bias is −19 % as θ/τ → 0, −15 % at θ/τ = 0.5, −11 % at 1, ≈ 0 near 2.5 (see the
  // module header): it reaches the 15 % bound only from θ/τ ≈ 0.6, and with 1 s sampling and the
  // hysteresis it measured −15.5 % at θ/τ = 0.6. So the classic figure is held to 15 % from θ/τ = 0.8 up.
  // Measured Ku errors: −13.2 % (0.8), −11.4 % (1), −7.3 % (1.5), −3.2 % (2), +0.4 % (2.5); Pu within 4.2 %.
  it.each([80, 100, 150, 200, 250].map((deadTimeS) => ({ deadTimeS })))(
    'measures Ku (describing function) and Pu within 15 percent of the exact values for θ = $deadTimeS s',
    ({ deadTimeS }) => {
      const r = done(autotune(plant({ tauS: 100, deadTimeS }), relayAt50(60)));
      const exact = ultimateFromFopdt({ gain: 60, tauS: 100, deadTimeS });
      expect(Math.abs(errorPct(r.ku, exact.ku))).toBeLessThan(15);
      expect(Math.abs(errorPct(r.puS, exact.puS))).toBeLessThan(15);
    },
  );

  // The first-harmonic ratio is 1/|G(iω)| at the oscillation frequency whatever the waveform, so it has
  // no describing-function bias; what remains is the oscillation being slightly off the −180° frequency.
  // Measured: −1.5 % (θ/τ 0.3), +1.1 %, +1.2 %, +2.6 %, +2.5 % (θ/τ 2); describing function −19 … −3 %.
  it.each([30, 45, 60, 100, 200].map((deadTimeS) => ({ deadTimeS })))(
    'measures Ku from the first harmonics within 5 percent for θ = $deadTimeS s, where the describing function is up to 20 percent low',
    ({ deadTimeS }) => {
      const r = done(autotune(plant({ tauS: 100, deadTimeS }), relayAt50(60)));
      const exact = ultimateFromFopdt({ gain: 60, tauS: 100, deadTimeS });
      expect(Math.abs(errorPct(r.kuFundamental, exact.ku))).toBeLessThan(5);
      expect(Math.abs(errorPct(r.puS, exact.puS))).toBeLessThan(5);
      expect(r.phaseDeg).toBeGreaterThan(-190);
      expect(r.phaseDeg).toBeLessThan(-170);
      // The documented bias of the classic estimate: low, by up to ≈ 20 % at θ/τ = 0.3.
      expect(errorPct(r.ku, exact.ku)).toBeLessThan(0);
      expect(errorPct(r.ku, exact.ku)).toBeGreaterThan(-22);
    },
  );

  it('shows the describing-function bias at small θ/τ on the default chamber (θ/τ = 0.04: Ku ≈ 27 % low)', () => {
    const r = done(autotune(plant({}), relayAt50(60, { hysteresis: 0.05 })));
    const exact = ultimateFromFopdt({ gain: 60, tauS: 240, deadTimeS: 10 });
    expect(errorPct(r.ku, exact.ku)).toBeLessThan(-19);
    // The first harmonics do better (≈ −11 %); the rest is the 1 s sampling and the hysteresis adding lag
    // to a 10 s dead time, which also lengthen the period (≈ +12 %).
    expect(Math.abs(errorPct(r.kuFundamental, exact.ku))).toBeLessThan(Math.abs(errorPct(r.ku, exact.ku)));
  });

  it('reports the cycles it measured and uses the median of the last N', () => {
    const r = done(autotune(plant({ tauS: 100, deadTimeS: 60 }), relayAt50(60, { cycles: 5 })));
    expect(r.cycles).toHaveLength(6); // the first, transient, cycle plus five
    expect(r.relayAmplitude).toBeCloseTo(0.3, 12);
    expect(r.hysteresis).toBe(0.1);
    const periods = r.cycles.slice(-5).map((c) => c.periodS);
    expect(r.puS).toBe([...periods].sort((a, b) => a - b)[2]);
    expect(r.elapsedMs).toBeGreaterThan(5 * r.puS * 1000);
  });

  it('still measures Ku and Pu within 5 % with 0.05 K measurement noise and 0.3 K hysteresis', () => {
    const p = plant({ tauS: 100, deadTimeS: 40, noiseC: 0.05 });
    const r = done(autotune(p, relayAt50(60, { hysteresis: 0.3 })));
    const exact = ultimateFromFopdt({ gain: 60, tauS: 100, deadTimeS: 40 });
    expect(Math.abs(errorPct(r.kuFundamental, exact.ku))).toBeLessThan(5);
    expect(Math.abs(errorPct(r.puS, exact.puS))).toBeLessThan(5);
  });

  it('tunes a cooling plant in reverse direction', () => {
    // Ambient 35 °C, full duty cools by 30 K; oscillate around 20 °C.
    const p = plant({ ambientC: 35, gainC: -30, tauS: 100, deadTimeS: 60 });
    const r = done(
      autotune(p, {
        setpoint: 20,
        bias: 0.5,
        amplitude: 0.3,
        hysteresis: 0.1,
        maxDurationMs: 3600_000,
        direction: 'reverse',
      }),
    );
    const exact = ultimateFromFopdt({ gain: -30, tauS: 100, deadTimeS: 60 });
    expect(Math.abs(errorPct(r.kuFundamental, exact.ku))).toBeLessThan(5);
    expect(Math.abs(errorPct(r.puS, exact.puS))).toBeLessThan(5);
    expect(r.phaseDeg).toBeCloseTo(-180, -1);
  });

  // Measured on the step 50 → 55 °C (to ±0.25 K): Z–N with PonE overshoots 2.35 K (its quarter-decay
  // character) and settles in 264 s; Z–N with PonM 0.21 K, 177 s; Tyreus–Luyben PID no overshoot, 764 s.
  it.each<{ rule: TuningRule; pOn: 'error' | 'measurement'; maxOvershootK: number; maxSettleS: number }>([
    { rule: 'ziegler-nichols-pid', pOn: 'error', maxOvershootK: 3, maxSettleS: 360 },
    { rule: 'ziegler-nichols-pid', pOn: 'measurement', maxOvershootK: 0.5, maxSettleS: 300 },
    { rule: 'tyreus-luyben-pid', pOn: 'error', maxOvershootK: 0.1, maxSettleS: 900 },
  ])(
    'gives tunings that control the plant it tuned (autotune → $rule, P on $pOn → 50 → 55 °C step)',
    ({ rule, pOn, maxOvershootK, maxSettleS }) => {
      const p = plant({ tauS: 100, deadTimeS: 45 });
      const options = relayAt50(60);
      const r = done(autotune(p, options));
      const tunings = tuningsFromUltimate(r.kuFundamental, r.puS, rule);
      // What the loop runtime does afterwards: back to the bias in manual, then auto (bumpless).
      const c = new Pid({
        tunings,
        sampleMs: 1000,
        outMin: 0,
        outMax: 1,
        derivativeFilterN: 10,
        pOn,
        mode: 'manual',
      });
      c.setManualOutput(options.bias as number);
      for (let s = 0; s < 1800; s++) p.step(1, c.compute(p.temperatureC, 50));
      c.setMode('auto');
      const temps: number[] = [];
      for (let s = 0; s < 3600; s++) {
        p.step(1, c.compute(p.temperatureC, s < 60 ? 50 : 55));
        if (s >= 60) temps.push(p.temperatureC);
      }
      expect(Math.max(...temps) - 55).toBeLessThan(maxOvershootK);
      const lastOutside = temps.findLastIndex((t) => Math.abs(t - 55) > 0.25);
      expect(lastOutside + 1).toBeLessThan(maxSettleS);
    },
  );
});

describe('RelayAutotuner aborts', () => {
  it('aborts with a reason when the input exceeds maxInput, and keeps returning that result', () => {
    const p = plant({ tauS: 100, deadTimeS: 60 });
    const tuner = new RelayAutotuner(relayAt50(60, { maxInput: 52 }));
    let r: AutotuneStep;
    let tMs = 0;
    for (; ; tMs += 1000) {
      r = tuner.step(p.temperatureC, tMs);
      if (!('output' in r)) break;
      p.step(1, r.output);
    }
    expect(r).toMatchObject({ code: 'max-input', aborted: expect.stringMatching(/above maxInput 52/) });
    expect(p.temperatureC).toBeLessThan(52.5);
    expect(tuner.step(20, tMs + 1000)).toBe(r);
  });

  it('aborts below minInput', () => {
    const r = autotune(plant({ tauS: 100, deadTimeS: 60 }), relayAt50(60, { minInput: 48 }));
    expect(r).toMatchObject({ code: 'min-input', aborted: expect.stringMatching(/below minInput 48/) });
  });

  it('aborts when maxDurationMs elapses before enough cycles, reporting the cycles measured so far', () => {
    const r = autotune(plant({ tauS: 100, deadTimeS: 60 }), relayAt50(60, { maxDurationMs: 15 * 60_000 }));
    expect(r).toMatchObject({ code: 'timeout', elapsedMs: 15 * 60_000 });
    expect('aborted' in r && r.aborted).toMatch(/maxDurationMs 900000 elapsed/);
    expect('cycles' in r && r.cycles.length).toBeGreaterThan(0);
  });

  it('aborts with no-oscillation when the relay cannot move the input across the setpoint', () => {
    // bias 0.1 ± 0.05: the chamber cannot get above 21 + 0.15·60 = 30 °C, far from 50 °C.
    const r = autotune(
      plant({ tauS: 100, deadTimeS: 60 }),
      relayAt50(60, { bias: 0.1, amplitude: 0.05, maxDurationMs: 3600_000 }),
    );
    expect(r).toMatchObject({ code: 'no-oscillation', aborted: expect.stringMatching(/no oscillation/) });
  });

  it('rejects misuse with a TypeError naming the parameter', () => {
    const base = relayAt50(60);
    const cases: [Partial<RelayAutotunerOptions>, RegExp][] = [
      [{ outputHigh: 1, outputLow: 0 }, /either outputHigh and outputLow, or bias and amplitude/],
      [{ bias: undefined, amplitude: undefined }, /either/],
      [{ amplitude: -0.1 }, /outputHigh must be > outputLow/],
      [{ hysteresis: -1 }, /hysteresis/],
      [{ cycles: 0 }, /cycles/],
      [{ maxDurationMs: 0 }, /maxDurationMs/],
      [{ maxInput: 10, minInput: 20 }, /maxInput/],
      [{ setpoint: Number.NaN }, /setpoint/],
    ];
    for (const [bad, message] of cases)
      expect(() => new RelayAutotuner({ ...base, ...bad })).toThrow(message);
    const tuner = new RelayAutotuner(base);
    tuner.step(20, 1000);
    expect(() => tuner.step(20, 500)).toThrow(/nowMonoMs/);
    expect(() => tuner.step(Number.NaN, 2000)).toThrow(TypeError);
  });
});
