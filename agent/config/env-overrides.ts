/**
 * `EDGE_AGENT_<PATH>` environment overrides, by one fixed rule: the field path in UPPER_SNAKE_CASE,
 * segments joined by `_` (`log.level` → `EDGE_AGENT_LOG_LEVEL`, `stateDir` → `EDGE_AGENT_STATE_DIR`).
 * Values are read as YAML scalars or flow collections (`true`, `5`, `[a, b]`). The schema resolves
 * which `_` separates segments, so camelCase fields need no special spelling. An `EDGE_AGENT_` variable
 * that names no field is an error: a misspelt override silently ignored is worse than none.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.js';

const PREFIX = 'EDGE_AGENT_';
/** Variables with the prefix that are not config fields. */
const RESERVED = new Set(['EDGE_AGENT_CONFIG', 'EDGE_AGENT_BOARD', 'EDGE_AGENT_ROOT']);

export interface EnvOverride {
  readonly variable: string;
  readonly path: string[];
  readonly value: unknown;
}

function upperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Finds the overrides in `env` for `schema`, or the issues for variables that name nothing. */
export function findEnvOverrides(
  schema: z.ZodTypeAny,
  env: NodeJS.ProcessEnv,
): { overrides: EnvOverride[]; issues: ConfigIssue[] } {
  const overrides: EnvOverride[] = [];
  const issues: ConfigIssue[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(PREFIX) || RESERVED.has(variable) || raw === undefined) continue;
    const path = resolvePath(schema, variable.slice(PREFIX.length).split('_'));
    if (!path) {
      issues.push({ path: '', message: `environment variable ${variable} names no configuration field` });
      continue;
    }
    let value: unknown;
    try {
      value = parseYaml(raw);
    } catch {
      value = raw;
    }
    overrides.push({ variable, path, value });
  }
  return { overrides, issues };
}

/** Returns a copy of `doc` with the overrides applied. */
export function applyEnvOverrides(doc: unknown, overrides: readonly EnvOverride[]): unknown {
  const root: Record<string, unknown> = structuredClone(isRecord(doc) ? doc : {});
  for (const { path, value } of overrides) {
    let node = root;
    for (const key of path.slice(0, -1)) {
      if (!isRecord(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
  return root;
}

function resolvePath(schema: z.ZodTypeAny, tokens: string[]): string[] | undefined {
  if (tokens.length === 0) return [];
  const shape = objectShape(schema);
  if (!shape) return undefined;
  for (const [key, child] of Object.entries(shape)) {
    const keyTokens = upperSnake(key).split('_');
    if (keyTokens.length > tokens.length || !keyTokens.every((t, i) => t === tokens[i])) continue;
    const rest = resolvePath(child, tokens.slice(keyTokens.length));
    if (rest) return [key, ...rest];
  }
  return undefined;
}

/** The shape of an object schema, looking through optional/default/effects wrappers. */
function objectShape(schema: z.ZodTypeAny): Record<string, z.ZodTypeAny> | undefined {
  let s: z.ZodTypeAny | undefined = schema;
  for (let i = 0; i < 10 && s; i++) {
    if (s instanceof z.ZodObject) return s.shape as Record<string, z.ZodTypeAny>;
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodTypeAny;
    else if (s instanceof z.ZodDefault) s = s.removeDefault() as z.ZodTypeAny;
    else if (s instanceof z.ZodEffects) s = s.innerType() as z.ZodTypeAny;
    else return undefined;
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
