/**
 * A rule set delivered by the fleet as an OTA component (`kind: rules`): `rules.yaml` in the slot
 * directory, read and checked exactly like agent.yaml's `rules:` — the same schema, the same
 * `checkRules`, every issue naming the component, the file, the line and the field — plus the
 * settings of loops agent.yaml declares (setpoint, tunings), applied bumplessly.
 *
 * What a rule set may not do: hold an interlock (a safety function stays in agent.yaml, where the
 * fleet cannot replace it), reuse the name of an agent.yaml rule (alarm ids would collide), or add
 * loops (a loop owns an output device, which is the site's wiring).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { checkRules, type PointInfo } from '../control/check-rules.js';
import { tuningsSchema } from '../control/loop-schema.js';
import { type Rule, rulesSchema } from '../control/rule-schema.js';
import type { PidTunings } from '../control/types.js';
import { ConfigError, type ConfigIssue, errorMessage } from '../core/errors.js';
import { YamlSource } from './validate-yaml.js';

export const RULE_SET_FILE = 'rules.yaml';

export const ruleSetSchema = z.strictObject({
  rules: rulesSchema.default([]),
  /** Settings of loops agent.yaml declares, by name. */
  loops: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        setpoint: z.number().finite().optional(),
        tunings: tuningsSchema.optional(),
      }),
    )
    .default([]),
});

export interface LoopSettings {
  readonly name: string;
  readonly setpoint?: number | undefined;
  readonly tunings?: PidTunings | undefined;
}

export interface RuleSet {
  readonly file: string;
  readonly rules: readonly Rule[];
  readonly loops: readonly LoopSettings[];
}

export interface RuleSetContext {
  points(name: string): PointInfo;
  readonly loops: readonly string[];
  /** Names of agent.yaml's rules, which a rule set may not reuse. */
  readonly reservedRules: ReadonlySet<string>;
}

/**
 * Reads and checks `<dir>/rules.yaml`. Throws a ConfigError whose message starts with the component
 * and names the file, line and field of every issue.
 */
export async function readRuleSet(component: string, dir: string, ctx: RuleSetContext): Promise<RuleSet> {
  const file = path.join(dir, RULE_SET_FILE);
  const fail = (issues: readonly ConfigIssue[], cause?: unknown): never => {
    throw new ConfigError(
      file,
      issues.map((i) => ({ ...i, message: `rules component ${component}: ${i.message}` })),
      cause === undefined ? undefined : { cause },
    );
  };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return fail([{ path: '', message: `cannot read the rule set: ${errorMessage(e)}` }], e);
  }
  let source: YamlSource;
  let set: z.infer<typeof ruleSetSchema>;
  try {
    source = YamlSource.parse(file, text);
    set = source.validate(ruleSetSchema);
  } catch (e) {
    return fail(e instanceof ConfigError ? e.issues : [{ path: '', message: errorMessage(e) }], e);
  }
  const issues: ConfigIssue[] = checkRules(set.rules, { points: ctx.points, loops: ctx.loops });
  for (const [i, rule] of set.rules.entries()) {
    if (rule.interlock) {
      issues.push({
        path: `rules.${i}.interlock`,
        message: `rule ${JSON.stringify(rule.name)}: interlocks stay in agent.yaml (a safety function is not replaced from the fleet)`,
      });
    }
    if (ctx.reservedRules.has(rule.name)) {
      issues.push({
        path: `rules.${i}.name`,
        message: `rule ${JSON.stringify(rule.name)}: agent.yaml already has a rule of that name`,
      });
    }
  }
  for (const [i, loop] of set.loops.entries()) {
    if (!ctx.loops.includes(loop.name)) {
      issues.push({
        path: `loops.${i}.name`,
        message: `no loop ${JSON.stringify(loop.name)} in agent.yaml (a rule set tunes loops, it does not add them)`,
      });
    }
  }
  if (issues.length > 0) {
    fail(issues.map((i) => ({ ...i, line: source.lineOf(dottedPath(i.path)) })));
  }
  return { file, rules: set.rules, loops: set.loops };
}

function dottedPath(p: string): (string | number)[] {
  return p === '' ? [] : p.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}
