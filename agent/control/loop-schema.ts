/**
 * The `loops:` section of the agent configuration: one entry per PID loop, with its points, tunings,
 * output shaping, safe state, gain schedule and autotune settings. Cross-references (points exist,
 * the output is writable) are checked by `checkLoops` once the point table is known.
 */
import { z } from 'zod';
import { CONFIG_LIMITS } from '../core/config-limits.js';
import { type ConfigIssue, errorMessage } from '../core/errors.js';
import { GainSchedule } from './schedule.js';

const pointName = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected a dotted point name such as chamber.temp');

export const tuningsSchema = z.strictObject({
  kp: z.number().finite().min(0),
  /** Integral gain per second (kp / Ti). */
  ki: z.number().finite().min(0),
  /** Derivative gain in seconds (kp · Td). */
  kd: z.number().finite().min(0),
});

export const AUTOTUNE_RULES = [
  'ziegler-nichols-pid',
  'tyreus-luyben-pi',
  'tyreus-luyben-pid',
  'no-overshoot',
] as const;

export const loopSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case name: letters, digits, _ and -'),
  /** The measured point (the process variable). */
  input: pointName,
  /** The actuator point: boolean → time-proportioned relay; number → the output value. */
  output: pointName,
  setpoint: z.number().finite(),
  /** The setpoints anyone may ask for (console, fleet, rules); others are refused `EOUT_OF_RANGE`. */
  setpointLimits: z
    .strictObject({ min: z.number().finite(), max: z.number().finite() })
    .refine((l) => l.min < l.max, 'expected min < max')
    .optional(),
  /** PID sample period. */
  periodMs: z.number().int().positive().max(3_600_000),
  mode: z.enum(['auto', 'manual']).default('auto'),
  /** Output in manual mode until changed. */
  manualOutput: z.number().finite().optional(),
  direction: z.enum(['direct', 'reverse']).default('direct'),
  /** Proportional on error (classic) or on measurement (less overshoot on setpoint steps). */
  pOn: z.enum(['error', 'measurement']).default('error'),
  tunings: tuningsSchema,
  outputLimits: z
    .strictObject({ min: z.number().finite(), max: z.number().finite() })
    .refine((l) => l.min < l.max, 'expected min < max')
    .default({ min: 0, max: 1 }),
  antiWindup: z.enum(['clamp', 'back-calculation']).default('back-calculation'),
  /** Derivative filter: Tf = Td / N (0 = no filter). */
  derivativeFilterN: z.number().min(0).max(100).default(10),
  /** For a boolean output: the PID output (scaled to 0–1) is the on-fraction of each window. */
  timeProportioning: z
    .strictObject({
      windowMs: z.number().int().min(100).max(3_600_000),
      minOnMs: z.number().int().min(0).default(0),
      minOffMs: z.number().int().min(0).default(0),
      /** How often the relay is re-evaluated within a window. */
      tickMs: z.number().int().min(10).max(60_000).default(100),
    })
    .refine((tp) => tp.minOnMs + tp.minOffMs <= tp.windowMs, {
      message: 'expected minOnMs + minOffMs <= windowMs',
    })
    .optional(),
  /** After start, how long a not-yet-read input holds the safe output without raising the alarm. */
  startupGraceMs: z.number().int().min(0).max(600_000).default(10_000),
  /** Output while the input is stale or faulted (in output units; false/0 for a heater). */
  safeOutput: z.number().finite().default(0),
  /** Gain scheduling: tunings by the value of a point (or the setpoint). */
  schedule: z
    .strictObject({
      by: z.union([pointName, z.literal('setpoint')]),
      hysteresis: z.number().min(0).default(0),
      regions: z
        .array(
          z.strictObject({
            name: z.string().min(1),
            from: z.number().finite().optional(),
            to: z.number().finite().optional(),
            tunings: tuningsSchema.optional(),
          }),
        )
        .min(1)
        .max(CONFIG_LIMITS.scheduleRegions),
    })
    .superRefine((schedule, ctx) => {
      // The regions must make a GainSchedule (contiguous, ascending, unique names): ask it, so that
      // a mistake is a config error with a line rather than a TypeError when the loop is built.
      try {
        new GainSchedule({
          hysteresis: schedule.hysteresis,
          regions: schedule.regions.map((r) => ({ ...r, tunings: r.tunings ?? { kp: 0, ki: 0, kd: 0 } })),
        });
      } catch (error) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['regions'], message: errorMessage(error) });
      }
    })
    .optional(),
  autotune: z
    .strictObject({
      rule: z.enum(AUTOTUNE_RULES).default('tyreus-luyben-pid'),
      /** Half the relay's output swing around the current output (output units). */
      amplitude: z.number().positive().optional(),
      /** Relay hysteresis around the setpoint (input units): larger than the noise. */
      hysteresis: z.number().min(0).default(0.2),
      cycles: z.number().int().min(2).max(20).default(4),
      maxInput: z.number().finite().optional(),
      minInput: z.number().finite().optional(),
      maxDurationMs: z
        .number()
        .int()
        .positive()
        .default(2 * 3_600_000),
    })
    .refine((at) => at.minInput === undefined || at.maxInput === undefined || at.minInput < at.maxInput, {
      message: 'expected minInput < maxInput',
      path: ['maxInput'],
    })
    .default({}),
  /** Run the PID computation in a worker thread (sub-millisecond sampling jitter, fast loops). */
  worker: z.boolean().default(false),
});

export const loopsSchema = z.array(loopSchema).max(CONFIG_LIMITS.loops).default([]);
export type LoopConfig = z.infer<typeof loopSchema>;

export interface PointInfo {
  readonly exists: boolean;
  readonly writable: boolean;
}

/** Cross-checks loops against the point table; each issue's path names the loop's entry. */
export function checkLoops(
  loops: readonly LoopConfig[],
  pointInfo: (name: string) => PointInfo,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Set<string>();
  const outputs = new Map<string, string>();
  loops.forEach((loop, i) => {
    const at = (field: string, message: string) => issues.push({ path: `loops.${i}.${field}`, message });
    if (names.has(loop.name)) at('name', `loop name "${loop.name}" is used twice`);
    names.add(loop.name);
    if (!pointInfo(loop.input).exists) at('input', `loop ${loop.name}: unknown point ${loop.input}`);
    const out = pointInfo(loop.output);
    if (!out.exists) at('output', `loop ${loop.name}: unknown point ${loop.output}`);
    else if (!out.writable)
      at('output', `loop ${loop.name}: point ${loop.output} is not writable (not an actuator)`);
    const other = outputs.get(loop.output);
    if (other) at('output', `loop ${loop.name}: output ${loop.output} is already driven by loop ${other}`);
    outputs.set(loop.output, loop.name);
    const by = loop.schedule?.by;
    if (by && by !== 'setpoint' && !pointInfo(by).exists)
      at('schedule.by', `loop ${loop.name}: unknown point ${by}`);
    if (loop.worker && loop.schedule) {
      at(
        'worker',
        `loop ${loop.name}: gain scheduling runs on the main thread; use worker: false with a schedule`,
      );
    }
    const sp = loop.setpointLimits;
    if (sp && (loop.setpoint < sp.min || loop.setpoint > sp.max)) {
      at(
        'setpoint',
        `loop ${loop.name}: setpoint ${loop.setpoint} is outside setpointLimits [${sp.min}, ${sp.max}]`,
      );
    }
    const { min, max } = loop.outputLimits;
    if (loop.safeOutput < min || loop.safeOutput > max) {
      at(
        'safeOutput',
        `loop ${loop.name}: safeOutput ${loop.safeOutput} is outside the output limits [${min}, ${max}]`,
      );
    }
  });
  return issues;
}
