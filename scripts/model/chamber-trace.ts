/**
 * Headless traces of the simulated chamber for the anomaly model: the same `ThermalPlant` the sim
 * board runs, closed by the same control code the agent runs (`Pid`, `GainSchedule` and
 * `TimeProportioner` from agent/control/, configured as config/dev.yaml's `chamber` loop), stepped in
 * simulated time — a simulated day takes about a second. Every second it records exactly the model's
 * inputs, `[chamber.temp, loop.chamber.setpoint, loop.chamber.output]`, as the agent's points hold them.
 *
 * The tick order follows the agent: every 100 ms the world steps the plant with the relay's state and
 * the relay's time-proportioning task runs; every 1000 ms the sensor is read and the PID samples it.
 * The 70 °C interlock is not modelled: a stuck heater already drives the PID output to 0, which is all
 * the interlock would make the output point show.
 *
 * Scenarios are seeded: `normalScenario` varies what a working chamber sees (ambient level and drift,
 * sensor noise, a few setpoint changes a day within 30–60 °C) so a model cannot just learn a constant;
 * `faultScenario` adds faults of every kind at random times on top of a normal day.
 */

import { Pid } from '../../agent/control/pid.js';
import { GainSchedule } from '../../agent/control/schedule.js';
import { TimeProportioner } from '../../agent/control/time-proportioning.js';
import { type Random, seededRandom } from '../../agent/hal/sim/random.js';
import {
  DEFAULT_THERMAL_PLANT,
  type PlantFault,
  type PlantFaultKind,
  ThermalPlant,
} from '../../agent/hal/sim/thermal-plant.js';

/** The model's inputs, in order: the point names of the inference config. */
export const CHAMBER_INPUTS = ['chamber.temp', 'loop.chamber.setpoint', 'loop.chamber.output'] as const;
export const SAMPLE_MS = 1000;
const TICK_MS = 100;

/** config/dev.yaml's `chamber` loop (test/unit/scripts/model/chamber-trace.test.ts holds the two together). */
export const CHAMBER_LOOP = {
  setpointC: 45,
  periodMs: 1000,
  tunings: { kp: 0.2, ki: 0.002, kd: 1.0 },
  derivativeFilterN: 10,
  schedule: {
    hysteresis: 1,
    regions: [
      { name: 'warm', to: 50, tunings: { kp: 0.2, ki: 0.002, kd: 1.0 } },
      { name: 'hot', from: 50, tunings: { kp: 0.15, ki: 0.0015, kd: 1.0 } },
    ],
  },
  timeProportioning: { windowMs: 10_000, minOnMs: 500, minOffMs: 500, tickMs: TICK_MS },
} as const;

export interface ChamberScenario {
  readonly durationS: number;
  /** Seed of the plant's measurement noise. */
  readonly noiseSeed: number;
  readonly ambientC: number;
  readonly driftC: number;
  readonly driftPeriodS: number;
  readonly noiseC: number;
  /** Setpoint changes, ascending; the loop starts at 45 °C (dev.yaml). */
  readonly setpoints: readonly { readonly atS: number; readonly setpointC: number }[];
  readonly faults: readonly PlantFault[];
}

export interface ChamberTrace {
  /** Samples every SAMPLE_MS, row-major [n, 3] in CHAMBER_INPUTS order. */
  readonly samples: Float64Array;
  readonly length: number;
}

/** A fault-free run: what a working chamber sees (ranges in the comments of each line). */
export function normalScenario(seed: number, durationS: number): ChamberScenario {
  const random = seededRandom(seed);
  return {
    durationS,
    noiseSeed: Math.floor(random.next() * 2 ** 31),
    ambientC: uniform(random, 17, 25), // a room, summer or winter
    // The room's temperature swings (HVAC cycling, sun on the wall): up to ±0.8 °C over 2–8 h, so at
    // most ~2.5 °C/h — a sensor drifting faster than the room can is what the model can tell apart.
    driftC: uniform(random, 0.2, 0.8),
    driftPeriodS: uniform(random, 2 * 3600, 8 * 3600),
    noiseC: uniform(random, 0.02, 0.05), // BME280 noise at its oversampling
    setpoints: setpointChanges(random, durationS),
    faults: [],
  };
}

export interface FaultPlan {
  /** How many faults to place (kinds taken in turn from a seeded shuffle, so each comes up). */
  readonly count: number;
  readonly minForS: number;
  readonly maxForS: number;
  /** Quiet time after a fault ends before the next may start (the chamber settles, windows clear). */
  readonly gapS: number;
  /** |driftCPerH| range; the sign is random. */
  readonly driftCPerH: readonly [number, number];
  readonly lossFactor: readonly [number, number];
}

export interface FaultEpisode {
  readonly kind: PlantFaultKind;
  readonly atS: number;
  readonly forS: number;
}

/** A normal scenario with `plan.count` faults at random times after `startS` (to fit in the duration). */
export function faultScenario(
  seed: number,
  durationS: number,
  startS: number,
  plan: FaultPlan,
): ChamberScenario & { readonly episodes: readonly FaultEpisode[] } {
  const base = normalScenario(seed, durationS);
  const random = seededRandom(seed ^ 0x5eed_f417);
  const kinds: PlantFaultKind[] = ['heater-stuck-on', 'sensor-drift', 'door-open'];
  const faults: PlantFault[] = [];
  // Spread the faults: each gets an equal slot, starting at a random point of its slot's free part.
  const slotS = (durationS - startS) / plan.count;
  let order: PlantFaultKind[] = [];
  for (let i = 0; i < plan.count; i++) {
    if (order.length === 0) order = shuffle(random, kinds);
    const kind = order.pop() as PlantFaultKind;
    const forS = Math.round(uniform(random, plan.minForS, plan.maxForS));
    const freeS = slotS - forS - plan.gapS;
    if (freeS < 0) throw new RangeError(`fault plan: ${plan.count} faults do not fit in ${durationS} s`);
    const atS = Math.round(startS + i * slotS + random.next() * freeS);
    if (kind === 'heater-stuck-on') faults.push({ kind, atS, forS });
    else if (kind === 'sensor-drift') {
      const rate = uniform(random, plan.driftCPerH[0], plan.driftCPerH[1]);
      faults.push({ kind, atS, forS, driftCPerH: random.next() < 0.5 ? -rate : rate });
    } else
      faults.push({ kind, atS, forS, lossFactor: uniform(random, plan.lossFactor[0], plan.lossFactor[1]) });
  }
  return {
    ...base,
    faults,
    episodes: faults.map((f) => ({ kind: f.kind, atS: f.atS, forS: f.forS ?? 0 })),
  };
}

/** Runs the plant and the loop through a scenario and returns the samples. */
export function runChamber(scenario: ChamberScenario): ChamberTrace {
  const plant = new ThermalPlant(
    {
      ...DEFAULT_THERMAL_PLANT,
      ambientC: scenario.ambientC,
      driftC: scenario.driftC,
      driftPeriodS: scenario.driftPeriodS,
      noiseC: scenario.noiseC,
      faults: scenario.faults,
    },
    seededRandom(scenario.noiseSeed),
  );
  const loop = CHAMBER_LOOP;
  const pid = new Pid({
    tunings: loop.tunings,
    sampleMs: loop.periodMs,
    outMin: 0,
    outMax: 1,
    derivativeFilterN: loop.derivativeFilterN,
    initialOutput: 0,
  });
  const schedule = new GainSchedule(loop.schedule);
  const tp = loop.timeProportioning;
  const relay = new TimeProportioner({ windowMs: tp.windowMs, minOnMs: tp.minOnMs, minOffMs: tp.minOffMs });

  const length = Math.floor((scenario.durationS * 1000) / SAMPLE_MS);
  const samples = new Float64Array(length * 3);
  const ticksPerSample = SAMPLE_MS / TICK_MS;
  let setpointC: number = loop.setpointC;
  let nextSetpoint = 0;
  let output = 0;
  let relayOn = false;
  for (let i = 0; i < length; i++) {
    for (let t = 0; t < ticksPerSample; t++) {
      plant.step(TICK_MS / 1000, relayOn ? 1 : 0);
      relayOn = relay.update(output, (i * ticksPerSample + t + 1) * TICK_MS);
    }
    const nowS = ((i + 1) * SAMPLE_MS) / 1000;
    const change = scenario.setpoints[nextSetpoint];
    if (change && change.atS <= nowS) {
      setpointC = change.setpointC;
      nextSetpoint++;
    }
    const temperatureC = plant.measure().temperatureC;
    const selection = schedule.select(setpointC);
    if (selection.changed) pid.setTunings(selection.tunings);
    output = pid.compute(temperatureC, setpointC);
    samples[i * 3] = temperatureC;
    samples[i * 3 + 1] = setpointC;
    samples[i * 3 + 2] = output;
  }
  return { samples, length };
}

/** 2–6 setpoint changes a day at random times, each to a value in 30–60 °C (0.5 °C steps). */
function setpointChanges(random: Random, durationS: number): ChamberScenario['setpoints'] {
  const changes: { atS: number; setpointC: number }[] = [];
  const perDay = 2 + random.next() * 4;
  const meanGapS = 86_400 / perDay;
  for (let atS = -Math.log(1 - random.next()) * meanGapS; atS < durationS; ) {
    changes.push({ atS: Math.round(atS), setpointC: Math.round(uniform(random, 30, 60) * 2) / 2 });
    atS += -Math.log(1 - random.next()) * meanGapS;
  }
  return changes;
}

function uniform(random: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * random.next();
}

function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
