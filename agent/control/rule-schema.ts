/**
 * What a rule is, as data: the YAML shape of the `rules` list and the types the engine runs. A rule
 * watches points through a condition (thresholds with hysteresis, rates of change, quality, boolean
 * states, composed with all/any/not), optionally debounced, and acts when it activates and clears.
 * Conditions and actions are single-key objects (`{ above: 80, point: … }`, `{ force: { … } }`), so a
 * rule reads like the sentence a technician would say; each is recognised by its key, so a typo gets
 * a message about that variant rather than zod's "invalid union". Durations are milliseconds (`forMs`);
 * their sign, point names and loop names are checked against the running system by checkRules.
 */
import { z } from 'zod';
import { CONFIG_LIMITS } from '../core/config-limits.js';
import type { PointValue } from '../core/points.js';
import type { AlarmSeverity } from './types.js';

/** Activates when the value rises above `above`; deactivates only when it falls below `above − hysteresis`. */
export interface AboveCondition {
  readonly point: string;
  readonly above: number;
  /** Point units; default 0 (then a value exactly at the limit keeps the current state). */
  readonly hysteresis?: number;
}

/** Mirror of `AboveCondition`: activates below `below`, deactivates above `below + hysteresis`. */
export interface BelowCondition {
  readonly point: string;
  readonly below: number;
  readonly hysteresis?: number;
}

/** The point rose faster than `risingFaster` units per second, measured over the last `overMs`. */
export interface RisingCondition {
  readonly point: string;
  readonly risingFaster: number;
  readonly overMs: number;
}

/** The point fell faster than `fallingFaster` units per second (a positive number) over `overMs`. */
export interface FallingCondition {
  readonly point: string;
  readonly fallingFaster: number;
  readonly overMs: number;
}

/** The point's quality: `stale`, `fault`, or `not-good` (either, or never reported). */
export interface QualityCondition {
  readonly point: string;
  readonly quality: 'stale' | 'fault' | 'not-good';
}

/** A boolean point equals `is` (a door contact is open). */
export interface IsCondition {
  readonly point: string;
  readonly is: boolean;
}

export type Condition =
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition }
  | AboveCondition
  | BelowCondition
  | RisingCondition
  | FallingCondition
  | QualityCondition
  | IsCondition;

/** Manual holds `output` (bumpless back to auto later); auto hands the output back to the PID. */
export type LoopAction =
  | { readonly name: string; readonly mode: 'manual'; readonly output: number }
  | { readonly name: string; readonly mode: 'auto' };

export type Action =
  /** One write when the rule activates. */
  | { readonly set: { readonly point: string; readonly value: PointValue } }
  /** Held while the rule is active, released when it clears; interlock rules only. */
  | { readonly force: { readonly point: string; readonly value: PointValue } }
  | { readonly loop: LoopAction }
  | { readonly setpoint: { readonly loop: string; readonly value: number } }
  /** Raised when the rule activates and cleared when it clears; the alarm's id is the rule's name. */
  | { readonly alarm: { readonly severity: AlarmSeverity; readonly message: string } };

export interface Rule {
  /** Unique; also the id of the rule's alarm and, as `rule:<name>`, the source of its writes. */
  readonly name: string;
  /** Evaluated before all other rules, and the only rules that may force a point. */
  readonly interlock?: boolean;
  readonly when: Condition;
  /** The condition must hold continuously this long before the rule activates. */
  readonly forMs?: number;
  /** The condition must be false continuously this long before the rule clears. */
  readonly clearForMs?: number;
  readonly actions: readonly Action[];
  /** Run once when the rule clears (after its forces are released and its alarm cleared). */
  readonly onClear?: readonly Action[];
}

const pointName = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected a point name: dotted words of A–Z a–z 0–9 _ -');

const ruleName = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected a rule name: dotted words of A–Z a–z 0–9 _ -');

const pointValue = z.union([z.number().finite(), z.boolean(), z.string()], {
  errorMap: () => ({ message: 'expected a number, a boolean or a string' }),
});

/** A duration in ms; its sign is checked by checkRules so that the message can name the rule. */
const durationMs = z.number().finite();

/**
 * A schema for a single-key-discriminated object: picks the variant by the first of its keys that is
 * present and validates with that variant alone, so errors speak about what the author meant.
 */
function keyed<T>(
  what: string,
  variants: readonly (readonly [key: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>])[],
): z.ZodType<T, z.ZodTypeDef, unknown> {
  const keys = variants.map(([k]) => k).join(', ');
  return z.unknown().transform((value, ctx): T => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected ${what} (a map with one of: ${keys})` });
      return z.NEVER;
    }
    const variant = variants.find(([key]) => key in value);
    if (!variant) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected ${what} with one of: ${keys}` });
      return z.NEVER;
    }
    const result = variant[1].safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue(issue);
    return z.NEVER;
  });
}

export const conditionSchema: z.ZodType<Condition, z.ZodTypeDef, unknown> = z.lazy(() =>
  keyed<Condition>('a condition', [
    ['all', z.strictObject({ all: z.array(conditionSchema).min(1).max(CONFIG_LIMITS.conditionItems) })],
    ['any', z.strictObject({ any: z.array(conditionSchema).min(1).max(CONFIG_LIMITS.conditionItems) })],
    ['not', z.strictObject({ not: conditionSchema })],
    [
      'above',
      z.strictObject({
        point: pointName,
        above: z.number().finite(),
        hysteresis: z.number().min(0).default(0),
      }),
    ],
    [
      'below',
      z.strictObject({
        point: pointName,
        below: z.number().finite(),
        hysteresis: z.number().min(0).default(0),
      }),
    ],
    [
      'risingFaster',
      z.strictObject({ point: pointName, risingFaster: z.number().positive(), overMs: durationMs }),
    ],
    [
      'fallingFaster',
      z.strictObject({ point: pointName, fallingFaster: z.number().positive(), overMs: durationMs }),
    ],
    ['quality', z.strictObject({ point: pointName, quality: z.enum(['stale', 'fault', 'not-good']) })],
    ['is', z.strictObject({ point: pointName, is: z.boolean() })],
  ]),
);

const loopAction = z.discriminatedUnion('mode', [
  z.strictObject({ name: z.string().min(1), mode: z.literal('manual'), output: z.number().finite() }),
  z.strictObject({ name: z.string().min(1), mode: z.literal('auto') }),
]);

export const actionSchema: z.ZodType<Action, z.ZodTypeDef, unknown> = keyed<Action>('an action', [
  ['set', z.strictObject({ set: z.strictObject({ point: pointName, value: pointValue }) })],
  ['force', z.strictObject({ force: z.strictObject({ point: pointName, value: pointValue }) })],
  ['loop', z.strictObject({ loop: loopAction })],
  [
    'setpoint',
    z.strictObject({ setpoint: z.strictObject({ loop: z.string().min(1), value: z.number().finite() }) }),
  ],
  [
    'alarm',
    z.strictObject({
      alarm: z.strictObject({
        severity: z.enum(['critical', 'major', 'minor', 'warning', 'info']),
        message: z.string().min(1),
      }),
    }),
  ],
]);

export const ruleSchema: z.ZodType<Rule, z.ZodTypeDef, unknown> = z.strictObject({
  name: ruleName,
  interlock: z.boolean().default(false),
  when: conditionSchema,
  forMs: durationMs.optional(),
  clearForMs: durationMs.optional(),
  actions: z.array(actionSchema).min(1).max(CONFIG_LIMITS.ruleActions),
  onClear: z.array(actionSchema).max(CONFIG_LIMITS.ruleActions).default([]),
});

/** The `rules` list of the configuration. */
export const rulesSchema: z.ZodType<Rule[], z.ZodTypeDef, unknown> = z
  .array(ruleSchema)
  .max(CONFIG_LIMITS.rules);
