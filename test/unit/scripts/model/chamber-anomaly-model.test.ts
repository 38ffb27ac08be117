/**
 * The committed model (models/chamber-anomaly.onnx) as the agent's runtime will load it: through
 * onnxruntime-node, with the model file contract's input and output, scoring normal operation below
 * the threshold of 1 and each injected fault above it. Whether the committed bytes are what the
 * training script builds is checked by `node dist/scripts/model/train-chamber-anomaly.js --check`
 * (about 20–40 s, too slow here); this file checks the same determinism on a reduced configuration.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { PlantFault } from '../../../../agent/hal/sim/thermal-plant.js';
import { CHANNELS, WINDOW_SIZE } from '../../../../scripts/model/chamber-features.js';
import { type ChamberTrace, normalScenario, runChamber } from '../../../../scripts/model/chamber-trace.js';
import {
  CHAMBER_MODEL_TRAINING,
  MODEL_PATH,
  trainChamberAnomaly,
} from '../../../../scripts/model/train-chamber-anomaly.js';

async function scoreOf(session: ort.InferenceSession, trace: ChamberTrace, end: number): Promise<number> {
  const window = Float32Array.from(trace.samples.subarray((end - WINDOW_SIZE) * CHANNELS, end * CHANNELS));
  const out = await session.run({ window: new ort.Tensor('float32', window, [1, WINDOW_SIZE, CHANNELS]) });
  const score = out.anomaly_score as ort.Tensor;
  expect(score.dims).toEqual([1]);
  return (score.data as Float32Array)[0] as number;
}

/** Four hours of a normal chamber (seed 501), the fault from 2 h on. */
function withFault(fault: PlantFault | undefined): ChamberTrace {
  return runChamber({ ...normalScenario(501, 4 * 3600), setpoints: [], faults: fault ? [fault] : [] });
}

describe('models/chamber-anomaly.onnx', () => {
  it('has the contract’s input and output', async () => {
    const session = await ort.InferenceSession.create(MODEL_PATH);
    expect(session.inputNames).toEqual(['window']);
    expect(session.outputNames).toEqual(['anomaly_score']);
    await session.release();
  });

  it('scores normal operation below 1 and each fault above 1', async () => {
    const session = await ort.InferenceSession.create(MODEL_PATH);
    const onsetS = 7200;
    const normal = withFault(undefined);
    for (const endS of [onsetS, onsetS + 1800, onsetS + 3600]) {
      expect(await scoreOf(session, normal, endS)).toBeLessThan(1);
    }
    const stuck = withFault({ kind: 'heater-stuck-on', atS: onsetS, forS: 3600 });
    expect(await scoreOf(session, stuck, onsetS)).toBeLessThan(1); // before the onset
    expect(await scoreOf(session, stuck, onsetS + 900)).toBeGreaterThan(1);
    const door = withFault({ kind: 'door-open', atS: onsetS, forS: 3600, lossFactor: 1 });
    expect(await scoreOf(session, door, onsetS + 900)).toBeGreaterThan(1);
    const drift = withFault({ kind: 'sensor-drift', atS: onsetS, forS: 3600, driftCPerH: 10 });
    expect(await scoreOf(session, drift, onsetS + 1800)).toBeGreaterThan(1);
    const driftLow = withFault({ kind: 'sensor-drift', atS: onsetS, forS: 3600, driftCPerH: -10 });
    expect(await scoreOf(session, driftLow, onsetS + 1800)).toBeGreaterThan(1);
    await session.release();
  });

  it('is rebuilt byte for byte by the training script, and its graph computes what training scored', async () => {
    const reduced = {
      ...CHAMBER_MODEL_TRAINING,
      normalDays: 2,
      validationDays: 0, // calibrated on its own windows: two days do not span a validation day's room
      strideS: 600,
      epochs: 2,
    };
    const first = trainChamberAnomaly(reduced);
    const second = trainChamberAnomaly(reduced);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    const session = await ort.InferenceSession.create(first.bytes);
    const trace = withFault({ kind: 'door-open', atS: 7200, lossFactor: 1 });
    for (const end of [5400, 7200, 8100, 9000]) {
      const expected = first.score(trace.samples, end);
      expect(await scoreOf(session, trace, end)).toBeCloseTo(expected, expected > 10 ? 1 : 3);
    }
    await session.release();
  }, 60_000);

  it('is a regular file of modest size', () => {
    expect(readFileSync(MODEL_PATH).length).toBeLessThan(200_000);
  });
});
