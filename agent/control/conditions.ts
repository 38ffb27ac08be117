/**
 * Conditions as small stateful evaluators over the point table. Each evaluation answers in three-valued
 * logic: `true`, `false`, or `undefined` when an input point is not `good` (stale, faulted, never
 * reported, or of the wrong type). A rule holds its state on `undefined` — a threshold on a faulted
 * sensor neither trips nor clears an interlock on a value nobody can vouch for — and a `quality`
 * condition is how a rule reacts to the fault itself. `all`/`any`/`not` combine the answers by Kleene's
 * rules (`false` wins in `all`, `true` wins in `any`), so `any: [above, quality: not-good]` trips on
 * either a hot reading or a dead sensor.
 *
 * Leaves keep state between evaluations (a hysteresis latch, a window of samples), so every leaf is
 * evaluated on every tick: `all`/`any` never short-circuit, or a latch would miss the crossing that
 * happened while a sibling decided the answer.
 */
import type { PointSnapshot } from '../core/points.js';
import type {
  AboveCondition,
  BelowCondition,
  Condition,
  FallingCondition,
  IsCondition,
  QualityCondition,
  RisingCondition,
} from './rule-schema.js';

/** `undefined`: unknown, because an input point is not good. */
export type Truth = boolean | undefined;

/** The part of the point table conditions read. */
export interface PointReader {
  get(name: string): PointSnapshot | undefined;
}

export interface ConditionEvaluator {
  /** Evaluates at monotonic time `nowMs`; call once per tick. */
  evaluate(nowMs: number): Truth;
}

export type LeafCondition =
  | AboveCondition
  | BelowCondition
  | RisingCondition
  | FallingCondition
  | QualityCondition
  | IsCondition;

/** Builds the evaluator for a condition tree; each leaf gets its own state. */
export function compileCondition(condition: Condition, points: PointReader): ConditionEvaluator {
  if ('all' in condition) {
    const children = condition.all.map((c) => compileCondition(c, points));
    return { evaluate: (now) => all(children.map((c) => c.evaluate(now))) };
  }
  if ('any' in condition) {
    const children = condition.any.map((c) => compileCondition(c, points));
    return { evaluate: (now) => any(children.map((c) => c.evaluate(now))) };
  }
  if ('not' in condition) {
    const child = compileCondition(condition.not, points);
    return {
      evaluate: (now) => {
        const t = child.evaluate(now);
        return t === undefined ? undefined : !t;
      },
    };
  }
  if ('above' in condition)
    return threshold(points, condition.point, condition.above, condition.hysteresis, 1);
  if ('below' in condition)
    return threshold(points, condition.point, condition.below, condition.hysteresis, -1);
  if ('risingFaster' in condition)
    return rate(points, condition.point, condition.risingFaster, condition.overMs);
  if ('fallingFaster' in condition)
    return rate(points, condition.point, -condition.fallingFaster, condition.overMs);
  if ('quality' in condition) return quality(points, condition);
  return is(points, condition);
}

/**
 * Visits every leaf with its dotted path (`rules.3.when.all.1`), in document order: for config checks
 * (unknown points, durations) and for the rule graph (which points a rule reads).
 */
export function forEachLeaf(
  condition: Condition,
  path: string,
  visit: (leaf: LeafCondition, path: string) => void,
): void {
  if ('all' in condition || 'any' in condition) {
    const [key, children] = 'all' in condition ? ['all', condition.all] : ['any', condition.any];
    for (const [i, c] of children.entries()) forEachLeaf(c, `${path}.${key}.${i}`, visit);
  } else if ('not' in condition) forEachLeaf(condition.not, `${path}.not`, visit);
  else visit(condition, path);
}

function all(truths: Truth[]): Truth {
  if (truths.includes(false)) return false;
  return truths.includes(undefined) ? undefined : true;
}

function any(truths: Truth[]): Truth {
  if (truths.includes(true)) return true;
  return truths.includes(undefined) ? undefined : false;
}

function goodNumber(points: PointReader, name: string): number | undefined {
  const p = points.get(name);
  return p?.quality === 'good' && typeof p.value === 'number' ? p.value : undefined;
}

/**
 * A latch with a dead band: `direction` 1 trips above `limit` and resets below `limit − hysteresis`;
 * −1 mirrors it. Inside the band (and exactly at the limit) the latch keeps its state, which is what
 * stops a relay chattering on a noisy reading. Starts reset.
 */
function threshold(
  points: PointReader,
  name: string,
  limit: number,
  hysteresis: number | undefined,
  direction: 1 | -1,
): ConditionEvaluator {
  const band = hysteresis ?? 0;
  let latched = false;
  return {
    evaluate: () => {
      const value = goodNumber(points, name);
      if (value === undefined) return undefined;
      const beyond = direction * (value - limit); // > 0: past the limit in the tripping direction
      if (beyond > 0) latched = true;
      else if (beyond < -band) latched = false;
      return latched;
    },
  };
}

interface Sample {
  readonly monoMs: number;
  readonly value: number;
}

/**
 * Rate of change over a window: the latest good reading against the reading in effect `overMs` ago
 * (the newest sample at or before the window's start), divided by the time between the two readings'
 * own timestamps. Samples are the point's updates as seen at each evaluation, stamped with the point's
 * monotonic time, so a tick that is late does not distort the rate. Unknown until the history covers
 * the window, and while the point is not good. `limitPerS` is signed: negative means "falling faster".
 */
function rate(points: PointReader, name: string, limitPerS: number, overMs: number): ConditionEvaluator {
  const samples: Sample[] = [];
  return {
    evaluate: (nowMs) => {
      const p = points.get(name);
      if (p?.quality !== 'good' || typeof p.value !== 'number') return undefined;
      const last = samples.at(-1);
      if (!last || p.monoMs > last.monoMs) samples.push({ monoMs: p.monoMs, value: p.value });
      const horizonMs = nowMs - overMs;
      while (samples.length >= 2 && (samples[1]?.monoMs ?? Number.POSITIVE_INFINITY) <= horizonMs)
        samples.shift();
      const anchor = samples[0];
      const latest = samples.at(-1);
      if (!anchor || !latest || anchor === latest || anchor.monoMs > horizonMs) return undefined;
      const perS = (latest.value - anchor.value) / ((latest.monoMs - anchor.monoMs) / 1000);
      return limitPerS > 0 ? perS > limitPerS : perS < limitPerS;
    },
  };
}

function quality(points: PointReader, condition: QualityCondition): ConditionEvaluator {
  return {
    evaluate: () => {
      const p = points.get(condition.point);
      if (!p) return undefined;
      return condition.quality === 'not-good' ? p.quality !== 'good' : p.quality === condition.quality;
    },
  };
}

/** Strictly boolean: a number 0/1 is a type mismatch (unknown), not a truthy guess. */
function is(points: PointReader, condition: IsCondition): ConditionEvaluator {
  return {
    evaluate: () => {
      const p = points.get(condition.point);
      if (p?.quality !== 'good' || typeof p.value !== 'boolean') return undefined;
      return p.value === condition.is;
    },
  };
}
