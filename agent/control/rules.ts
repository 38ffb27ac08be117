/**
 * Declarative rules on points — the public surface of the feature, in one import: the YAML schema
 * (rule-schema.ts), the configuration check against the running system (check-rules.ts), and the
 * engine the scheduler ticks (rule-engine.ts). Conditions and their three-valued logic live in
 * conditions.ts.
 */
export { checkRules, type PointInfo, type RuleCheckContext } from './check-rules.js';
export type { Truth } from './conditions.js';
export { RuleEngine, type RuleEngineDeps, type RuleStatus } from './rule-engine.js';
export {
  type AboveCondition,
  type Action,
  actionSchema,
  type BelowCondition,
  type Condition,
  conditionSchema,
  type FallingCondition,
  type IsCondition,
  type LoopAction,
  type QualityCondition,
  type RisingCondition,
  type Rule,
  ruleSchema,
  rulesSchema,
} from './rule-schema.js';
