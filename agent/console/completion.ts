/**
 * What the word being typed at the command prompt may become, for Tab and `?`: the first word from
 * the commands this agent has (their human syntax, their dotted names, the console's own); later words
 * from the syntaxes that fit so far — a literal word, or the names of points and loops where the
 * syntax takes one, read from the registry's `points` and `loops` as they are now.
 */
import type { CommandRegistry } from '../commands/registry.js';
import { SYNTAXES } from './command-line.js';
import { BUILTINS } from './help.js';
import { isRecord } from './render.js';

export async function completions(before: string, registry: CommandRegistry): Promise<string[]> {
  const words = before.split(' ').filter((w, i, all) => w !== '' || i === all.length - 1);
  const done = words.slice(0, -1);
  const usable = [...SYNTAXES.map((s) => s.pattern), ...BUILTINS.map(([usage]) => usage)].filter(
    (_pattern, i) => i >= SYNTAXES.length || registry.get(SYNTAXES[i]!.command),
  );
  if (done.length === 0) {
    return [...usable.map((p) => p.split(' ')[0]!), ...registry.list().map((c) => c.name)];
  }
  const next = new Set<string>();
  for (const pattern of usable) {
    const tokens = pattern.split(' ');
    if (!done.every((w, i) => tokens[i] !== undefined && (isCapture(tokens[i]!) || tokens[i] === w)))
      continue;
    const token = tokens[done.length];
    if (token === undefined) continue;
    if (!isCapture(token)) next.add(token);
    else for (const name of await namesFor(token, registry)) next.add(name);
  }
  return [...next];
}

function isCapture(token: string): boolean {
  return /^\[?</.test(token);
}

async function namesFor(token: string, registry: CommandRegistry): Promise<string[]> {
  const capture = /^\[?<(\w+)/.exec(token)?.[1];
  if (capture === 'point' || capture === 'prefix') return listNames(registry, 'points');
  if (capture === 'loop') return listNames(registry, 'loops');
  if (capture === 'mode') return ['auto', 'manual'];
  return [];
}

async function listNames(registry: CommandRegistry, command: 'points' | 'loops'): Promise<string[]> {
  if (!registry.get(command)) return [];
  const result = await registry.execute(command, {}, { via: 'console', who: 'completion' });
  if (!result.ok || !Array.isArray(result.result)) return [];
  return result.result.flatMap((r) => (isRecord(r) && typeof r.name === 'string' ? [r.name] : []));
}
