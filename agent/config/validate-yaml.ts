/**
 * YAML text → validated, frozen value, or a `ConfigError` whose every issue names the file, the line
 * and the field path and says what was expected. This is where a technician's typo becomes a message
 * they can act on instead of a stack trace.
 *
 * Every file read here (agent.yaml, wiring files, board profiles) must be a YAML map. Anything else —
 * a scalar, a list, an empty file or one holding only comments — is refused rather than read as "all
 * defaults": an agent with no loops, interlocks, users or trust is never what a truncated or mangled
 * file meant, and whoever really wants every default writes `{}`. Aliases are expanded at most
 * `MAX_YAML_ALIASES` times, so a "billion laughs" document is a ConfigError, not a stack trace or
 * gigabytes of memory.
 */
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue, errorMessage } from '../core/errors.js';

export type PathKey = string | number;

/** How many alias expansions a document may make (the `yaml` library's `maxAliasCount`). */
export const MAX_YAML_ALIASES = 100;

/** A parsed YAML document that can tell the line of any field path. */
export class YamlSource {
  readonly file: string;
  readonly value: unknown;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;

  private constructor(file: string, doc: Document.Parsed, lines: LineCounter, value: unknown) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
    this.value = value;
  }

  /** Parses YAML; a syntax error, a document that is not a map or an alias bomb becomes a ConfigError. */
  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        file,
        doc.errors.map((e) => ({
          path: '',
          line: lines.linePos(e.pos[0]).line,
          message: `invalid YAML: ${e.message.split('\n')[0]}`,
        })),
      );
    }
    const contents = doc.contents;
    if (!isMap(contents)) {
      const found = contents === null ? 'an empty document' : isSeq(contents) ? 'a list' : 'a single value';
      const line = contents?.range ? lines.linePos(contents.range[0]).line : undefined;
      const hint = contents === null ? ' (write {} to take every default)' : '';
      throw new ConfigError(file, [
        { path: '', line, message: `configuration must be a map of fields, found ${found}${hint}` },
      ]);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (error) {
      // `yaml` throws a ReferenceError when aliases expand more than maxAliasCount times.
      const message =
        error instanceof ReferenceError
          ? `too many YAML alias expansions (limit ${MAX_YAML_ALIASES}): refused as a possible "billion laughs" document`
          : `invalid YAML: ${errorMessage(error)}`;
      throw new ConfigError(file, [{ path: '', message }], { cause: error });
    }
    return new YamlSource(file, doc, lines, value);
  }

  /** 1-based line of the node at `path`, or of its nearest ancestor that exists. */
  lineOf(path: readonly PathKey[]): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = this.#doc.getIn(path.slice(0, n), true) as Node | undefined;
      const keyLine = n > 0 ? this.#keyLine(path.slice(0, n)) : undefined;
      if (keyLine !== undefined) return keyLine;
      if (node && typeof node === 'object' && 'range' in node && node.range) {
        return this.#lines.linePos(node.range[0]).line;
      }
    }
    return undefined;
  }

  /** Line of the key itself for a map entry (more helpful than the value's line for nested blocks). */
  #keyLine(path: readonly PathKey[]): number | undefined {
    const parent = path.length === 1 ? this.#doc.contents : this.#doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) return this.#lines.linePos(range[0]).line;
    }
    if (isSeq(parent) && typeof last === 'number') {
      const item = parent.items[last] as Node | undefined;
      if (item?.range) return this.#lines.linePos(item.range[0]).line;
    }
    return undefined;
  }

  /** Validates `value` at `path` (the whole document by default) against a schema. */
  validate<T>(
    schema: z.ZodType<T, z.ZodTypeDef, unknown>,
    path: readonly PathKey[] = [],
    value: unknown = this.value,
  ): T {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    throw new ConfigError(
      this.file,
      zodIssues(result.error, path, (p) => this.lineOf(p)),
    );
  }
}

/** Turns zod issues into config issues with full paths, lines and plain-language expectations. */
export function zodIssues(
  error: z.ZodError,
  prefix: readonly PathKey[],
  lineOf: (path: readonly PathKey[]) => number | undefined,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const base = [...prefix, ...(issue.path as PathKey[])];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...base, key];
        out.push({ path: path.join('.'), line: lineOf(path), message: `unknown field "${key}"` });
      }
      continue;
    }
    out.push({ path: base.join('.'), line: lineOf(base), message: plainMessage(issue) });
  }
  return out;
}

/** One sentence per zod issue, saying what was expected (and what was found, where that helps). */
function plainMessage(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.received === 'undefined'
        ? `required field is missing (expected ${issue.expected})`
        : `expected ${issue.expected.includes('|') ? 'one of ' : ''}${issue.expected}, received ${issue.received}`;
    case 'invalid_enum_value':
      return `expected one of ${issue.options.map((o) => JSON.stringify(o)).join(' | ')}, received ${JSON.stringify(issue.received)}`;
    case 'invalid_literal':
      return issue.message.startsWith('Invalid literal value')
        ? `expected ${JSON.stringify(issue.expected)}`
        : issue.message;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      if (issue.type === 'number' || issue.type === 'bigint')
        return `expected a number ${op} ${String(bound)}`;
      const unit = issue.type === 'string' ? 'characters' : 'items';
      if (issue.code === 'too_big' && issue.type === 'array')
        return `expected at most ${String(bound)} items (the limit)`;
      return `expected ${op} ${String(bound)} ${unit}`;
    }
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.multipleOf)}`;
    case 'invalid_string':
      return issue.message === 'Invalid' ? `expected a valid ${String(issue.validation)}` : issue.message;
    default:
      return issue.message.charAt(0).toLowerCase() + issue.message.slice(1);
  }
}

function isPlainData(value: unknown): value is object {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Freezes plain data (objects and arrays) all the way down; leaves class instances (drivers) alone. */
export function deepFreeze<T>(value: T): T {
  if (isPlainData(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
