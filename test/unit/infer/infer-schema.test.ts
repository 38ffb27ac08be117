import { describe, expect, it } from 'vitest';
import { checkInference, inferenceSchema, modelOutputs } from '../../../agent/infer/infer-schema.js';

const model = (extra: Record<string, unknown> = {}) => ({
  name: 'chamber-anomaly',
  file: 'models/chamber-anomaly.onnx',
  runtime: 'onnx',
  inputs: ['chamber.temp', 'loop.chamber.output'],
  window: { size: 60, everyMs: 10_000 },
  outputs: { anomaly_score: 'chamber.anomaly' },
  ...extra,
});

describe('the inference: section', () => {
  it('takes the contract example with its defaults', () => {
    const config = inferenceSchema.parse({ models: [model()] });
    expect(config.models[0]).toMatchObject({
      timeoutMs: 1000,
      window: { size: 60, everyMs: 10_000, sampleMs: 1000 },
    });
    expect(inferenceSchema.parse(undefined)).toEqual({ models: [] });
  });

  it('gives outputs the unit / unless told', () => {
    const [m] = inferenceSchema.parse({
      models: [
        model({
          outputs: { anomaly_score: 'chamber.anomaly', t: { point: 'chamber.predicted', unit: 'Cel' } },
        }),
      ],
    }).models;
    expect(m && modelOutputs(m)).toEqual([
      { key: 'anomaly_score', point: 'chamber.anomaly', unit: '/' },
      { key: 't', point: 'chamber.predicted', unit: 'Cel' },
    ]);
  });

  it('wants exactly one of component and file, and the onnx runtime', () => {
    const both = inferenceSchema.safeParse({ models: [model({ component: 'chamber-model' })] });
    expect(both.success || both.error.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      [
        'models.0.component',
        'model chamber-anomaly: expected exactly one of component (an OTA component) or file',
      ],
    ]);
    const neither = inferenceSchema.safeParse({ models: [model({ file: undefined })] });
    expect(neither.success || neither.error.issues[0]?.path.join('.')).toBe('models.0.file');
    const tflite = inferenceSchema.safeParse({ models: [model({ runtime: 'tflite' })] });
    expect(tflite.success || tflite.error.issues[0]?.message).toBe('expected onnx (the only runtime)');
  });
});

describe('checkInference', () => {
  const declared = new Set(['chamber.temp', 'loop.chamber.output', 'door.state']);
  const check = (models: unknown[], components?: Record<string, string>) =>
    checkInference(inferenceSchema.parse({ models }).models, { exists: (n) => declared.has(n), components });

  it('accepts inputs that exist and outputs that are new', () => {
    expect(check([model()])).toEqual([]);
  });

  it('names unknown inputs, colliding outputs and duplicate names by their field', () => {
    expect(
      check([
        model({ inputs: ['chamber.temp', 'chamber.tmep'], outputs: { anomaly_score: 'door.state' } }),
        model({ outputs: { anomaly_score: 'x.score', class: 'x.score' } }),
      ]),
    ).toEqual([
      { path: 'inference.models.0.inputs.1', message: 'model chamber-anomaly: unknown point chamber.tmep' },
      {
        path: 'inference.models.0.outputs.anomaly_score',
        message:
          'model chamber-anomaly: output point door.state is already declared (by a device, a loop or the agent)',
      },
      {
        path: 'inference.models.1.name',
        message: 'model chamber-anomaly: duplicate model name (first used by inference.models.0)',
      },
      {
        path: 'inference.models.1.outputs.class',
        message: 'model chamber-anomaly: output point x.score is mapped from more than one output',
      },
    ]);
  });

  it("lets a model read another's output, but not its own", () => {
    expect(
      check([
        model({ name: 'a', outputs: { anomaly_score: 'a.score' } }),
        model({ name: 'b', inputs: ['a.score', 'b.score'], outputs: { anomaly_score: 'b.score' } }),
      ]),
    ).toEqual([{ path: 'inference.models.1.inputs.1', message: 'model b: input b.score is its own output' }]);
  });

  it('wants a component to be an ota.components entry of kind model', () => {
    const m = model({ file: undefined, component: 'chamber-model' });
    expect(check([m])).toEqual([
      {
        path: 'inference.models.0.component',
        message: 'model chamber-anomaly: component chamber-model needs an ota: section that configures it',
      },
    ]);
    expect(check([m], { rootfs: 'system' })[0]?.message).toBe(
      'model chamber-anomaly: unknown component chamber-model (ota.components: rootfs)',
    );
    expect(check([m], { rootfs: 'system', 'chamber-model': 'rules' })).toEqual([
      {
        path: 'inference.models.0.component',
        message:
          'model chamber-anomaly: component chamber-model is kind rules; a model is read from a kind: model component',
      },
    ]);
    expect(check([m], { rootfs: 'system', 'chamber-model': 'model' })).toEqual([]);
  });
});
