/**
 * `help [WORDS]`: every command the registry holds with its human syntax, then the console's own —
 * fitted to the terminal's width (a long usage puts its summary on the next line; summaries wrap in
 * their column). With words, only the commands they start, each with an example where there is one.
 */
import type { Command, CommandRegistry } from '../commands/registry.js';
import { SYNTAXES, usagesOf } from './command-line.js';
import type { Terminal } from './terminal.js';

export const BUILTINS = [
  ['help [<command>]', 'this list, or the usage of one command'],
  ['points watch [<prefix>]', 'the points table, refreshed until a key is pressed'],
  ['logs [-f] [-n <count>] [-l <level>] [<module>]', 'recent log lines, filtered; -f follows until a key'],
  ['logs off|on|<level>', 'which live log lines this session shows (the npm start terminal)'],
  ['history', 'commands entered in this session (Up/Down recall them)'],
  ['whoami', 'the user and session'],
  ['unlock <user>', 'lift a console lockout of <user> (after too many failed logins)'],
  ['terminal length <lines>', 'lines per screen before -- More -- (0: never page)'],
  ['clear', 'clear the screen'],
  ['logout', 'end the session (also exit, quit, Ctrl-D)'],
] as const;

/** Usages longer than this put their summary on the next line. */
const MAX_USAGE_COLUMN = 36;

export function help(
  term: Terminal,
  registry: CommandRegistry,
  topic: readonly string[],
  json: boolean,
): void {
  const wanted = topic.join(' ');
  const matches = (c: Command) =>
    wanted === '' || c.name.startsWith(topic.join('.')) || usagesOf(c).some((u) => u.startsWith(wanted));
  const shown = registry.list().filter(matches);
  if (json) {
    const result = shown.map((c) => ({
      name: c.name,
      usage: usagesOf(c),
      summary: c.summary,
      actuates: c.actuates === true,
    }));
    term.line(JSON.stringify({ ok: true, command: 'help', result }));
    return;
  }
  const rows = shown.flatMap((c) =>
    usagesOf(c).map((usage, i) => [usage, i === 0 ? `${c.actuates ? '* ' : ''}${c.summary}` : ''] as const),
  );
  const builtins = BUILTINS.filter(([usage]) => wanted === '' || usage.startsWith(wanted));
  if (rows.length === 0 && builtins.length === 0) {
    term.line(`no command matches ${wanted}`);
    return;
  }
  const width = Math.min(MAX_USAGE_COLUMN, Math.max(...[...rows, ...builtins].map(([u]) => u.length)));
  const show = ([usage, summary]: readonly [string, string]) => showRow(term, width, usage, summary);
  if (rows.length > 0) {
    term.line(`${term.style('Commands', 'bold')} (* asks for confirmation; --yes skips it):`);
    rows.forEach(show);
  }
  if (builtins.length > 0) {
    term.line(`${term.style('Console', 'bold')}:`);
    builtins.forEach(show);
  }
  if (wanted === '') {
    term.line('--json: one line of JSON. Any command also runs as NAME key=value …');
    term.line('help WORDS: only those commands, with examples.');
    return;
  }
  const examples = SYNTAXES.filter((s) => s.example && shown.some((c) => c.name === s.command));
  for (const s of examples) term.line(`  e.g. ${s.example}`);
}

/** `  usage   summary`, the summary wrapped in its column (or on lines of its own under a long usage). */
function showRow(term: Terminal, width: number, usage: string, summary: string): void {
  const indent = 2 + width + 2;
  const room = Math.max(20, term.columns - indent - 1);
  const lines = wrap(summary, room);
  if (usage.length > width) {
    term.line(`  ${usage}`);
    for (const l of lines) term.line(`${' '.repeat(indent)}${l}`);
    return;
  }
  term.line(`  ${usage.padEnd(width)}  ${lines[0] ?? ''}`.trimEnd());
  for (const l of lines.slice(1)) term.line(`${' '.repeat(indent)}${l}`);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
