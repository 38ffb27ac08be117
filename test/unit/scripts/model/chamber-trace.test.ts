import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CHAMBER_LOOP,
  faultScenario,
  normalScenario,
  runChamber,
} from '../../../../scripts/model/chamber-trace.js';
import { EVALUATION_FAULTS } from '../../../../scripts/model/evaluate-detector.js';

describe('chamber traces', () => {
  it('run the chamber loop of config/dev.yaml', () => {
    const dev = parse(readFileSync('config/dev.yaml', 'utf8')) as { loops: Record<string, unknown>[] };
    const loop = dev.loops.find((l) => l.name === 'chamber') as Record<string, never>;
    expect(loop.setpoint).toBe(CHAMBER_LOOP.setpointC);
    expect(loop.periodMs).toBe(CHAMBER_LOOP.periodMs);
    expect(loop.tunings).toEqual(CHAMBER_LOOP.tunings);
    const { tickMs: _tick, ...tp } = CHAMBER_LOOP.timeProportioning;
    expect(loop.timeProportioning).toEqual(tp);
    const schedule = loop.schedule as unknown as { hysteresis: number; regions: Record<string, unknown>[] };
    expect(schedule.hysteresis).toBe(CHAMBER_LOOP.schedule.hysteresis);
    expect(schedule.regions.map((r) => r.tunings ?? loop.tunings)).toEqual(
      CHAMBER_LOOP.schedule.regions.map((r) => r.tunings),
    );
  });

  it('are reproducible from their seed and hold the setpoint once warm', () => {
    const a = runChamber(normalScenario(3, 7200));
    const b = runChamber(normalScenario(3, 7200));
    expect(a.length).toBe(7200);
    expect(a.samples).toEqual(b.samples);
    let error = 0;
    for (let i = 3600; i < 7200; i++)
      error += (a.samples[i * 3] as number) - (a.samples[i * 3 + 1] as number);
    expect(Math.abs(error / 3600)).toBeLessThan(0.2);
  });

  it('place faults of every kind, each inside the day with its quiet gap after it', () => {
    const scenario = faultScenario(11, 86_400, 3600, EVALUATION_FAULTS);
    expect(new Set(scenario.episodes.map((e) => e.kind))).toEqual(
      new Set(['heater-stuck-on', 'sensor-drift', 'door-open']),
    );
    for (const [i, e] of scenario.episodes.entries()) {
      expect(e.forS).toBeGreaterThanOrEqual(EVALUATION_FAULTS.minForS);
      expect(e.forS).toBeLessThanOrEqual(EVALUATION_FAULTS.maxForS);
      const next = scenario.episodes[i + 1];
      if (next) expect(next.atS).toBeGreaterThanOrEqual(e.atS + e.forS + EVALUATION_FAULTS.gapS);
    }
  });
});
