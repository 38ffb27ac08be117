/**
 * The `inference:` section of the agent configuration: the models the agent runs on a window of
 * recent samples of its points, and the points their outputs become. A model comes from a fixed
 * `file` (relative to agent.yaml) or from an OTA `component` whose booted slot directory holds
 * `model.onnx`; exactly one of the two. Cross-references (inputs exist, outputs are new points, the
 * component is configured) are checked by `checkInference` once the point table is known, the way
 * loops and rules are, so every mistake names its field and line.
 */
import { z } from 'zod';
import { CONFIG_LIMITS, hasAtMostKeys, tooManyEntries } from '../core/config-limits.js';
import type { ConfigIssue } from '../core/errors.js';
import { PRODUCED_UNITS, type SenmlUnit } from '../core/senml-units.js';

const pointName = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected a dotted point name such as chamber.temp');

/** An output tensor's name in the model (an ONNX identifier). */
const outputKey = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.:/-]*$/, 'expected the name of an output tensor of the model');

const outputSchema = z.union(
  [
    pointName,
    z.strictObject({
      point: pointName,
      /** The output point's SenML unit; default `/` (a dimensionless ratio). */
      unit: z.enum(PRODUCED_UNITS as unknown as readonly [SenmlUnit, ...SenmlUnit[]]).optional(),
    }),
  ],
  {
    errorMap: () => ({ message: 'expected a point name, or { point, unit }' }),
  },
);

export const modelSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case name: letters, digits, _ and -'),
    /** An `ota.components` entry whose booted slot directory holds `model.onnx`. */
    component: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected a lower-case component name')
      .optional(),
    /** A fixed model file (relative to agent.yaml) when the model is not updated over the air. */
    file: z.string().min(1).optional(),
    runtime: z.literal('onnx', { errorMap: () => ({ message: 'expected onnx (the only runtime)' }) }),
    /** The points fed to the model, in the order of the window's last axis. */
    inputs: z.array(pointName).min(1).max(CONFIG_LIMITS.modelPoints),
    window: z.strictObject({
      /** Samples per window (the model's `window` input is `[1, size, inputs]`). */
      size: z.number().int().min(1).max(10_000),
      /** How often the model runs on the last `size` samples. */
      everyMs: z.number().int().min(10).max(86_400_000),
      /** How often the inputs are sampled. */
      sampleMs: z.number().int().min(10).max(3_600_000).default(1000),
    }),
    /** Output tensor name → the point it becomes. */
    outputs: z
      .record(outputKey, outputSchema)
      .refine((o) => Object.keys(o).length > 0, 'expected at least one output')
      .refine(hasAtMostKeys(CONFIG_LIMITS.modelPoints), tooManyEntries(CONFIG_LIMITS.modelPoints)),
    /** A run that has not answered within this marks the outputs stale. */
    timeoutMs: z.number().int().min(1).max(60_000).default(1000),
  })
  .superRefine((m, ctx) => {
    if ((m.component === undefined) === (m.file === undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: m.component === undefined ? ['file'] : ['component'],
        message: `model ${m.name}: expected exactly one of component (an OTA component) or file`,
      });
    }
  });

export const inferenceSchema = z
  .strictObject({
    models: z.array(modelSchema).max(CONFIG_LIMITS.models).default([]),
  })
  .default({});

export type ModelConfig = z.infer<typeof modelSchema>;
export type InferenceConfig = z.infer<typeof inferenceSchema>;

export interface ModelOutput {
  /** The output tensor's name. */
  readonly key: string;
  readonly point: string;
  readonly unit: SenmlUnit;
}

/** A model's outputs as a list, each with its unit (`/` unless told). */
export function modelOutputs(model: ModelConfig): ModelOutput[] {
  return Object.entries(model.outputs).map(([key, out]) =>
    typeof out === 'string'
      ? { key, point: out, unit: '/' }
      : { key, point: out.point, unit: out.unit ?? '/' },
  );
}

export interface InferenceCheckContext {
  /** Whether the point table (devices, loops, telemetry metrics) already has this point. */
  exists(name: string): boolean;
  /** The configured `ota.components` and their kinds; undefined without an `ota:` section. */
  readonly components: Readonly<Record<string, string>> | undefined;
}

/**
 * Cross-checks models against the points declared before them; each issue's path names the field
 * (`inference.models.0.inputs.2`). A model may read another model's output point.
 */
export function checkInference(
  models: readonly ModelConfig[],
  context: InferenceCheckContext,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  const outputOwner = new Map<string, string>();
  for (const m of models) {
    for (const o of modelOutputs(m)) if (!outputOwner.has(o.point)) outputOwner.set(o.point, m.name);
  }
  for (const [i, m] of models.entries()) {
    const at = `inference.models.${i}`;
    const issue = (field: string, message: string) =>
      issues.push({ path: `${at}.${field}`, message: `model ${m.name}: ${message}` });
    const first = names.get(m.name);
    if (first === undefined) names.set(m.name, i);
    else issue('name', `duplicate model name (first used by inference.models.${first})`);
    if (m.component !== undefined) {
      if (context.components === undefined) {
        issue('component', `component ${m.component} needs an ota: section that configures it`);
      } else {
        const kind = context.components[m.component];
        if (kind === undefined) {
          issue(
            'component',
            `unknown component ${m.component} (ota.components: ${Object.keys(context.components).join(', ')})`,
          );
        } else if (kind !== 'model') {
          issue(
            'component',
            `component ${m.component} is kind ${kind}; a model is read from a kind: model component`,
          );
        }
      }
    }
    const seenInputs = new Set<string>();
    for (const [j, input] of m.inputs.entries()) {
      if (seenInputs.has(input)) issue(`inputs.${j}`, `input ${input} is listed twice`);
      seenInputs.add(input);
      if (!context.exists(input) && !outputOwner.has(input)) issue(`inputs.${j}`, `unknown point ${input}`);
      if (outputOwner.get(input) === m.name) issue(`inputs.${j}`, `input ${input} is its own output`);
    }
    const ownOutputs = new Set<string>();
    for (const o of modelOutputs(m)) {
      const field = typeof m.outputs[o.key] === 'string' ? `outputs.${o.key}` : `outputs.${o.key}.point`;
      if (context.exists(o.point)) {
        issue(field, `output point ${o.point} is already declared (by a device, a loop or the agent)`);
      } else if (outputOwner.get(o.point) !== m.name) {
        issue(field, `output point ${o.point} is already an output of model ${outputOwner.get(o.point)}`);
      } else if (ownOutputs.has(o.point)) {
        issue(field, `output point ${o.point} is mapped from more than one output`);
      }
      ownOutputs.add(o.point);
    }
  }
  return issues;
}
