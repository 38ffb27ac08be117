/**
 * A rule's condition as a technician reads it: `chamber.temp > 70 (hyst 5) for 2 s`,
 * `cabinet.door is true`, `any(air.pm2_5 > 3.5e-8, air.pm10 stale)`.
 */
import type { Condition, Rule } from './rule-schema.js';

export function describeRule(rule: Pick<Rule, 'when' | 'forMs'>): string {
  const base = describeCondition(rule.when);
  return rule.forMs ? `${base} for ${seconds(rule.forMs)}` : base;
}

export function describeCondition(c: Condition): string {
  if ('all' in c) return `all(${c.all.map(describeCondition).join(', ')})`;
  if ('any' in c) return `any(${c.any.map(describeCondition).join(', ')})`;
  if ('not' in c) return `not(${describeCondition(c.not)})`;
  const hyst = (h: number | undefined) => (h ? ` (hyst ${h})` : '');
  if ('above' in c) return `${c.point} > ${c.above}${hyst(c.hysteresis)}`;
  if ('below' in c) return `${c.point} < ${c.below}${hyst(c.hysteresis)}`;
  if ('risingFaster' in c) return `${c.point} rising > ${c.risingFaster}/s over ${seconds(c.overMs)}`;
  if ('fallingFaster' in c) return `${c.point} falling > ${c.fallingFaster}/s over ${seconds(c.overMs)}`;
  if ('quality' in c) return `${c.point} ${c.quality}`;
  return `${c.point} is ${c.is}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
