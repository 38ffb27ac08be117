/**
 * From what a technician types to a registry call. Known commands have a human syntax
 * (`loop set chamber setpoint 50` → `loop.setpoint {loop: chamber, value: 50}`), declared as patterns
 * in one table; every registered command, including ones added later, also answers to the generic
 * form `NAME key=value …` (values read as YAML scalars: `50` is a number, `true` a boolean). A pattern
 * is used only if its command is registered, so `help` never offers what this agent cannot do.
 * `--json`, `--yes` and `--no-reboot` may appear anywhere on the line.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Command, CommandRegistry } from '../commands/registry.js';

export interface Syntax {
  /** Literal words, `<name>` (text), `<name:number>`, `<name:value>` (YAML scalar); `[<…>]` optional, last. */
  readonly pattern: string;
  readonly command: string;
  /** Arguments the words imply (`loop autotune chamber cancel` → `cancel: true`). */
  readonly fixed?: Record<string, unknown>;
  /** A line to try, shown by `help WORDS`. */
  readonly example?: string;
}

export const SYNTAXES: readonly Syntax[] = [
  { pattern: 'status', command: 'status' },
  { pattern: 'devices', command: 'devices' },
  { pattern: 'models', command: 'models' },
  { pattern: 'points [<prefix>]', command: 'points' },
  { pattern: 'point set <point> <value:value>', command: 'point.set', example: 'point set fan.speed 0.5' },
  { pattern: 'loops', command: 'loops' },
  {
    pattern: 'loop set <loop> setpoint <value:number>',
    command: 'loop.setpoint',
    example: 'loop set chamber setpoint 50',
  },
  {
    pattern: 'loop set <loop> mode <mode> [<output:number>]',
    command: 'loop.mode',
    example: 'loop set chamber mode manual 0.3',
  },
  { pattern: 'loop set <loop> tunings <kp:number> <ki:number> <kd:number>', command: 'loop.tunings' },
  { pattern: 'loop autotune <loop> cancel', command: 'loop.autotune', fixed: { cancel: true } },
  { pattern: 'loop autotune <loop> [<rule>]', command: 'loop.autotune', example: 'loop autotune chamber' },
  { pattern: 'alarms', command: 'alarms' },
  { pattern: 'alarm ack <id>', command: 'alarm.ack', example: 'alarm ack chamber.overtemp' },
  { pattern: 'rules', command: 'rules' },
  { pattern: 'telemetry', command: 'telemetry' },
  { pattern: 'ota status --verbose', command: 'ota.status', fixed: { verbose: true } },
  { pattern: 'ota status', command: 'ota.status' },
  {
    pattern: 'ota install <file>',
    command: 'ota.install',
    example: 'ota install /var/lib/edge-agent/ota/inbox/rootfs.img',
  },
  { pattern: 'ota reboot', command: 'ota.reboot' },
  { pattern: 'ota commit', command: 'ota.commit' },
  { pattern: 'ota rollback', command: 'ota.rollback' },
  { pattern: 'identity', command: 'identity' },
  { pattern: 'reboot', command: 'reboot' },
];

const FLAGS = new Set(['--json', '--yes', '-y', '--no-reboot']);

export interface ParsedLine {
  readonly words: readonly string[];
  readonly json: boolean;
  readonly yes: boolean;
  /** `--no-reboot`: decline a reboot the command would ask for next (`ota install`). */
  readonly noReboot: boolean;
}

export type Resolution =
  | { readonly ok: true; readonly command: Command; readonly args: Record<string, unknown> }
  | { readonly ok: false; readonly message: string };

/** Splits a line into words: blanks separate, single or double quotes keep blanks, `\` escapes one. */
export function parseLine(line: string): ParsedLine | { error: string } {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (ch === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (ch === ' ' || ch === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote) return { error: `unterminated ${quote === '"' ? 'double' : 'single'} quote` };
  if (word !== undefined) words.push(word);
  return {
    words: words.filter((w) => !FLAGS.has(w)),
    json: words.includes('--json'),
    yes: words.includes('--yes') || words.includes('-y'),
    noReboot: words.includes('--no-reboot'),
  };
}

/** Finds the registry command and its arguments for the words of a line. */
export function resolveCommand(words: readonly string[], registry: CommandRegistry): Resolution {
  const usable = SYNTAXES.filter((s) => registry.get(s.command));
  for (const syntax of usable) {
    const match = matchPattern(syntax, words);
    if (match && 'args' in match)
      return { ok: true, command: registry.get(syntax.command)!, args: match.args };
    if (match && 'error' in match) return { ok: false, message: match.error };
  }
  const generic = matchGeneric(words, registry);
  if (generic) return generic;
  const near = usable.filter((s) => s.pattern.split(' ')[0] === words[0]);
  if (near.length > 0) {
    return { ok: false, message: `usage:\n${near.map((s) => `  ${usageOf(s.pattern)}`).join('\n')}` };
  }
  const guess = closest(words[0] ?? '', [
    ...usable.map((s) => s.pattern.split(' ')[0]!),
    ...registry.list().map((c) => c.name),
    ...CONSOLE_WORDS,
  ]);
  const hint = guess ? `did you mean \`${guess}\`?` : 'type help';
  return { ok: false, message: `unknown command: ${words.join(' ')} (${hint})` };
}

/** The console's own commands (shell.ts), for "did you mean". */
const CONSOLE_WORDS = ['help', 'logs', 'history', 'whoami', 'unlock', 'clear', 'logout'];

/** The candidate nearest to `word` by edit distance, if it is a likely typo (at most 2 edits). */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { word: string; d: number } | undefined;
  for (const c of new Set(candidates)) {
    const d = editDistance(word, c);
    if (d <= Math.min(2, Math.floor(c.length / 3)) && (!best || d < best.d)) best = { word: c, d };
  }
  return best?.word;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The human usages of a command, plus the generic form with its argument names. */
export function usagesOf(command: Command): string[] {
  // The plain form first, so `help` puts the command's summary beside it (not beside `… cancel`).
  const human = SYNTAXES.filter((s) => s.command === command.name)
    .sort((a, b) => Number(a.fixed !== undefined) - Number(b.fixed !== undefined))
    .map((s) => usageOf(s.pattern));
  const keys = argumentKeys(command.args);
  const generic = [command.name, ...keys.map(([k, optional]) => (optional ? `[${k}=…]` : `${k}=…`))].join(
    ' ',
  );
  return human.length > 0 ? human : [generic];
}

/** `<value:number>` → `<value>` for people. */
function usageOf(pattern: string): string {
  return pattern.replace(/<(\w+):\w+>/g, '<$1>');
}

type Match = { args: Record<string, unknown> } | { error: string } | undefined;

/**
 * Matches words against a pattern: undefined when its literal words differ (another pattern may fit),
 * an error when the literals fit but an argument does not (the user meant this command).
 */
function matchPattern(syntax: Syntax, words: readonly string[]): Match {
  const tokens = syntax.pattern.split(' ');
  const args: Record<string, unknown> = { ...syntax.fixed };
  let i = 0;
  for (const token of tokens) {
    const optional = token.startsWith('[');
    const capture = /^\[?<(\w+)(?::(\w+))?>\]?$/.exec(token);
    const word = words[i];
    if (!capture) {
      if (word !== token) return undefined;
      i++;
      continue;
    }
    if (word === undefined || isKeyValue(word)) {
      if (optional) continue;
      return { error: `usage: ${usageOf(syntax.pattern)}` };
    }
    const [, name, type] = capture;
    if (type === 'number') {
      const n = Number(word);
      if (word.trim() === '' || !Number.isFinite(n))
        return { error: `${name}: expected a number, got ${word}` };
      args[name!] = n;
    } else {
      args[name!] = type === 'value' ? scalar(word) : word;
    }
    i++;
  }
  const rest = words.slice(i);
  if (!rest.every(isKeyValue)) return undefined;
  return { args: { ...args, ...keyValues(rest) } };
}

/** `NAME key=value …` or `NAME WORDS… key=value …` where the words joined by dots name a command. */
function matchGeneric(words: readonly string[], registry: CommandRegistry): Resolution | undefined {
  const nameWords = words.findIndex(isKeyValue);
  const end = nameWords === -1 ? words.length : nameWords;
  for (let k = end; k >= 1; k--) {
    const name = words.slice(0, k).join('.');
    const command = registry.get(name);
    if (!command) continue;
    const rest = words.slice(k);
    if (!rest.every(isKeyValue)) {
      return { ok: false, message: `usage: ${usagesOf(command).join(' | ')}` };
    }
    return { ok: true, command, args: keyValues(rest) };
  }
  return undefined;
}

function isKeyValue(word: string): boolean {
  return /^[A-Za-z_][\w.-]*=/.test(word);
}

function keyValues(words: readonly string[]): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const word of words) {
    const at = word.indexOf('=');
    args[word.slice(0, at)] = scalar(word.slice(at + 1));
  }
  return args;
}

/** A word as YAML reads it (`50` → 50, `true` → true, `[1, 2]` → an array), else the text itself. */
function scalar(word: string): unknown {
  try {
    const value: unknown = parseYaml(word);
    return value === null ? word : value;
  } catch {
    return word;
  }
}

/** Argument names of a command's schema (best effort: an object schema, possibly wrapped). */
function argumentKeys(schema: z.ZodTypeAny): [string, boolean][] {
  let s: z.ZodTypeAny = schema;
  for (let i = 0; i < 5; i++) {
    if (s instanceof z.ZodEffects) s = s.innerType();
    else if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s._def.innerType;
    else break;
  }
  if (!(s instanceof z.ZodObject)) return [];
  return Object.entries(s.shape as Record<string, z.ZodTypeAny>).map(([k, v]) => [k, v.isOptional()]);
}
