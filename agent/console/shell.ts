/**
 * What happens to one command line after login: the console's own commands (`help`, `logs`,
 * `points watch`, `history`, `clear`, `whoami`, `logout`), else a registry command found by
 * command-line.ts — confirmed first when its registry entry `actuates`, run, rendered as a table or
 * as one JSON line with `--json`, and audited with its outcome. Ctrl-C while a registry command runs
 * returns to the prompt; the command itself cannot be cancelled, so it goes on and its result is
 * still audited.
 */
import type { Command, CommandContext, CommandRegistry, CommandResult } from '../commands/registry.js';
import type { Clock } from '../core/clock.js';
import { formatLogLine } from '../core/log-format.js';
import type { AuditEntry } from './audit-log.js';
import { type ParsedLine, parseLine, resolveCommand } from './command-line.js';
import { help } from './help.js';
import type { Key } from './keys.js';
import type { ReadLineOptions } from './line-editor.js';
import {
  isLogLevel,
  LOG_LEVELS,
  type LogFilter,
  type LogLevelName,
  levelIndex,
  matchesLogFilter,
  SHOW_ALL,
} from './log-filter.js';
import type { LogRing } from './log-ring.js';
import { paged } from './pager.js';
import { type CommandProgress, ProgressBar } from './progress-bar.js';
import { formatValue, isRecord } from './render.js';
import type { Terminal } from './terminal.js';
import { renderResult } from './views.js';

export interface ShellDeps {
  readonly clock: Clock;
  readonly commands: CommandRegistry;
  /** Recent log lines for `logs`; absent when the logger keeps none. */
  readonly logs?: LogRing | undefined;
  /** `points watch` refresh period (default 1000 ms). */
  readonly watchIntervalMs?: number | undefined;
}

export interface ShellContext {
  readonly deps: ShellDeps;
  readonly term: Terminal;
  readonly user: string;
  readonly session: string;
  readonly signal: AbortSignal;
  history(): readonly string[];
  /** A line; undefined after Ctrl-C, null after Ctrl-D. */
  readLine(options: ReadLineOptions): Promise<string | undefined | null>;
  /** The next key within `ms`, else undefined. */
  nextKeyWithin(ms: number): Promise<Key | undefined>;
  /** Routes Ctrl-C to `fn` (instead of the key queue) until the returned function is called. */
  onInterrupt(fn: () => void): () => void;
  audit(entry: Omit<AuditEntry, 'session' | 'event' | 'who'>): Promise<void>;
  /** Lifts a console lockout of `name`; whether it was locked. */
  unlock(name: string): boolean;
  /** Which live log lines this session prints above its prompt; returns the undo. */
  setLiveLogs(filter: LogFilter | 'off'): () => void;
}

/** The context a console command runs with: progress reaches the technician as a bar. */
export interface ConsoleCommandContext extends CommandContext {
  readonly via: 'console';
  progress(update: CommandProgress): void;
}

/** Runs one line; resolves 'logout' when the session should end. */
export async function runShellLine(ctx: ShellContext, line: string): Promise<'logout' | undefined> {
  const parsed = parseLine(line);
  if ('error' in parsed) {
    ctx.term.line(ctx.term.style(parsed.error, 'red'));
    await ctx.audit({ what: line, result: 'error', code: 'EUSAGE', message: parsed.error });
    return undefined;
  }
  const { words, json } = parsed;
  const what = words.join(' ');
  switch (words[0]) {
    case 'logout':
    case 'exit':
    case 'quit':
      await ctx.audit({ what, result: 'ok' });
      return 'logout';
    case 'help':
      await paged(ctx, () => help(ctx.term, ctx.deps.commands, words.slice(1), json));
      break;
    case 'history':
      if (json) printJson(ctx, 'history', ctx.history());
      else
        await paged(ctx, () => {
          for (const [i, h] of ctx.history().entries()) ctx.term.line(`${String(i + 1).padStart(4)}  ${h}`);
        });
      break;
    case 'terminal': {
      const lines = Number(words[2]);
      if (words[1] !== 'length' || words.length !== 3 || !Number.isInteger(lines) || lines < 0) {
        ctx.term.line(ctx.term.style('usage: terminal length <lines> (0: never page)', 'red'));
        await ctx.audit({ what, result: 'error', code: 'EUSAGE' });
        return undefined;
      }
      ctx.term.pageLength = lines;
      ctx.term.line(lines === 0 ? 'Output is not paged.' : `Pages of ${lines} lines.`);
      break;
    }
    case 'whoami':
      if (json) printJson(ctx, 'whoami', { user: ctx.user, session: ctx.session });
      else ctx.term.line(`${ctx.user} (${ctx.session})`);
      break;
    case 'clear':
      ctx.term.clearScreen();
      break;
    case 'unlock': {
      const name = words[1];
      if (!name || words.length > 2) {
        ctx.term.line(ctx.term.style('usage: unlock <user>', 'red'));
        await ctx.audit({ what, result: 'error', code: 'EUSAGE' });
        return undefined;
      }
      const was = ctx.unlock(name);
      ctx.term.line(
        was ? `Logins as ${name} are unlocked.` : `${name} was not locked; its failure count is cleared.`,
      );
      break;
    }
    case 'logs':
      await logs(ctx, words.slice(1), json);
      break;
    default:
      if (words[0] === 'points' && words[1] === 'watch' && ctx.deps.commands.get('points')) {
        await ctx.audit({ what, result: 'ok' });
        await watchPoints(ctx, words[2], json);
        return undefined;
      }
      await runRegistryCommand(ctx, words, parsed);
      return undefined;
  }
  await ctx.audit({ what, result: 'ok' });
  return undefined;
}

async function runRegistryCommand(ctx: ShellContext, words: readonly string[], flags: ParsedLine) {
  const { json, yes } = flags;
  const what = words.join(' ');
  const resolved = resolveCommand(words, ctx.deps.commands);
  if (!resolved.ok) {
    const failure: CommandResult = { ok: false, command: what, code: 'EUSAGE', message: resolved.message };
    print(ctx, failure, json);
    await ctx.audit({ what, result: 'error', code: 'EUSAGE', message: resolved.message });
    return;
  }
  const { command, args } = resolved;
  const audited = { what, command: command.name, args };
  const bar = new ProgressBar(ctx.term);
  const commandCtx: ConsoleCommandContext = { via: 'console', who: ctx.user, progress: (p) => bar.update(p) };
  if (command.actuates) {
    // Checked first, asked second: nobody confirms what would be refused anyway.
    const prepared = await ctx.deps.commands.prepare(command.name, args, commandCtx);
    if (!prepared.ok) {
      print(ctx, prepared, json);
      await ctx.audit({ ...audited, result: 'error', code: prepared.code, message: prepared.message });
      return;
    }
    if (!yes && !(await confirm(ctx, command, args, prepared.description))) {
      ctx.term.line('Cancelled.');
      await ctx.audit({ ...audited, result: 'cancelled' });
      return;
    }
  }
  const running = ctx.deps.commands.execute(command.name, args, commandCtx);
  // Audited when it ends, whether or not the technician waited for it.
  const audit = running.then((r) =>
    ctx.audit(
      r.ok ? { ...audited, result: 'ok' } : { ...audited, result: 'error', code: r.code, message: r.message },
    ),
  );
  const outcome = await untilInterrupted(ctx, running);
  bar.end();
  if (outcome === 'interrupted') {
    ctx.term.line(`${command.name} goes on in the background; its result will be in the audit log.`);
    return;
  }
  await paged(ctx, () => print(ctx, outcome, json));
  await audit;
  const next = nextStepOf(outcome);
  if (next) await offerNextStep(ctx, next, flags);
}

interface NextStep {
  readonly question: string;
  readonly command: string;
}

/** A command's result may propose the next one (`ota install` → `ota.reboot`), to ask for. */
function nextStepOf(result: CommandResult): NextStep | undefined {
  if (!result.ok || !isRecord(result.result) || !isRecord(result.result.next)) return undefined;
  const { question, command } = result.result.next;
  return typeof question === 'string' && typeof command === 'string' ? { question, command } : undefined;
}

async function offerNextStep(ctx: ShellContext, next: NextStep, flags: ParsedLine): Promise<void> {
  const later = () => ctx.term.line(`Not now. Run \`${next.command.replace('.', ' ')}\` when ready.`);
  if (flags.noReboot) return later();
  if (!flags.yes) {
    const answer = await ctx.readLine({ prompt: `${next.question} [y/N] ` });
    if (!/^y(es)?$/i.test(answer?.trim() ?? '')) return later();
  }
  await runRegistryCommand(ctx, next.command.split('.'), { ...flags, yes: true });
}

async function confirm(
  ctx: ShellContext,
  command: Command,
  args: Record<string, unknown>,
  description: readonly string[],
): Promise<boolean> {
  const described = [command.name, ...Object.entries(args).map(([k, v]) => `${k}=${formatValue(v)}`)].join(
    ' ',
  );
  ctx.term.line(`${ctx.term.style(described, 'bold')}: ${command.summary}.`);
  for (const line of description) ctx.term.line(`  ${line}`);
  const answer = await ctx.readLine({ prompt: 'This changes the process. Proceed? [y/N] ' });
  return /^y(es)?$/i.test(answer?.trim() ?? '');
}

function untilInterrupted<T>(ctx: ShellContext, running: Promise<T>): Promise<T | 'interrupted'> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(ctx.signal.reason);
    const release = ctx.onInterrupt(() => {
      ctx.term.line('^C');
      resolve('interrupted');
    });
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    running.then(resolve, reject).finally(() => {
      release();
      ctx.signal.removeEventListener('abort', onAbort);
    });
  });
}

function print(ctx: ShellContext, result: CommandResult, json: boolean): void {
  const { term } = ctx;
  if (json) term.line(JSON.stringify(result));
  else if (result.ok)
    term.line(renderResult(result.command, result.result, (t, ...s) => term.style(t, ...s)));
  else term.line(term.style(`error ${result.code}: ${result.message}`, 'red'));
}

function printJson(ctx: ShellContext, command: string, result: unknown): void {
  ctx.term.line(JSON.stringify({ ok: true, command, result }));
}

/**
 * `logs [-f] [-n N] [-l LEVEL] [MODULE]`: recent lines, filtered; `-f` follows. `logs off|on|LEVEL`
 * alone sets which live lines this session shows above its prompt (the stdio console's).
 */
async function logs(ctx: ShellContext, args: readonly string[], json: boolean): Promise<void> {
  const only = args.length === 1 ? args[0]! : undefined;
  if (only === 'off' || only === 'on' || (only !== undefined && isLogLevel(only))) {
    ctx.setLiveLogs(
      only === 'off' ? 'off' : only === 'on' ? SHOW_ALL : { minLevel: levelIndex(only as LogLevelName) },
    );
    ctx.term.line(
      only === 'off'
        ? 'Live log lines off for this session.'
        : `Live log lines: ${only === 'on' ? 'all' : `${only} and above`}.`,
    );
    return;
  }
  const ring = ctx.deps.logs;
  if (!ring) {
    ctx.term.line('No log lines are kept in memory by this agent.');
    return;
  }
  const parsed = parseLogsArgs(args);
  if ('error' in parsed) {
    ctx.term.line(ctx.term.style(parsed.error, 'red'));
    return;
  }
  const { follow, count, filter } = parsed;
  const show = (line: string) => {
    if (matchesLogFilter(line, filter))
      ctx.term.line(json ? line : formatLogLine(line, (t, ...s) => ctx.term.style(t, ...s)));
  };
  const kept = filter.minLevel >= levelIndex('warn') ? ring.notable() : ring.tail();
  const recent = kept.filter((l) => matchesLogFilter(l, filter)).slice(-count);
  if (!follow) return paged(ctx, () => recent.forEach(show));
  for (const line of recent) show(line);
  if (!json) ctx.term.line(ctx.term.style('-- following; press any key to stop --', 'dim'));
  const unsubscribe = ring.subscribe(show);
  const restoreLive = ctx.setLiveLogs('off'); // the live lines would print every line a second time
  try {
    for (;;) {
      const key = await ctx.nextKeyWithin(60_000);
      if (key) {
        if (key.name === 'interrupt') ctx.term.line('^C');
        return;
      }
    }
  } finally {
    unsubscribe();
    restoreLive();
  }
}

function parseLogsArgs(
  args: readonly string[],
): { follow: boolean; count: number; filter: LogFilter } | { error: string } {
  let follow = false;
  let count = 20;
  let minLevel = 0;
  let module: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-f' || a === '--follow') follow = true;
    else if (a === '-n') {
      count = Number(args[++i]);
      if (!(Number.isInteger(count) && count > 0)) return { error: 'logs: -n takes a count above 0' };
    } else if (a === '-l') {
      const level = args[++i] ?? '';
      if (!isLogLevel(level)) return { error: `logs: -l takes one of ${LOG_LEVELS.join(', ')}` };
      minLevel = levelIndex(level);
    } else if (!a.startsWith('-') && module === undefined) module = a;
    else return { error: `logs: unexpected ${a}; usage: logs [-f] [-n N] [-l LEVEL] [MODULE]` };
  }
  return { follow, count, filter: { minLevel, module } };
}

async function watchPoints(ctx: ShellContext, prefix: string | undefined, json: boolean): Promise<void> {
  const { term, deps } = ctx;
  const intervalMs = deps.watchIntervalMs ?? 1000;
  const commandCtx: CommandContext = { via: 'console', who: ctx.user };
  for (;;) {
    const result = await deps.commands.execute('points', prefix ? { prefix } : {}, commandCtx);
    if (json) {
      term.line(JSON.stringify(result));
    } else {
      if (!term.clearScreen()) term.line('');
      const at = new Date(deps.clock.nowMs()).toISOString().slice(11, 19);
      term.line(
        term.style(`points${prefix ? ` ${prefix}*` : ''} at ${at} UTC — press any key to stop`, 'dim'),
      );
      // Fits the screen: the title, the table's header and rule, the rows that fit, a line for the rest.
      const room = Math.max(1, term.rows - 5);
      const rows = result.ok && Array.isArray(result.result) ? (result.result as unknown[]) : undefined;
      if (rows && rows.length > room) {
        print(ctx, { ok: true, command: result.command, result: rows.slice(0, room - 1) }, false);
        term.line(term.style(`… ${rows.length - room + 1} more: points watch <prefix> narrows it`, 'dim'));
      } else print(ctx, result, false);
    }
    const key = await ctx.nextKeyWithin(intervalMs);
    if (key) {
      if (key.name === 'interrupt') term.line('^C');
      return;
    }
  }
}
