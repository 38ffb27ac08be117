/**
 * Why the agent could not start, in one line an operator can act on: what failed, the path or address
 * involved, the likely cause and what to do about it. A start-up step wraps what it throws in a
 * `StartupError` naming the step and what it was doing (`inStep`); `describeStartupFailure` turns that
 * — or any error — into a `StartupFailure`, and `formatStartupFailure` renders the line main.ts prints.
 * What error codes mean (errno codes, our `ELOCKED`, name resolution) is known here and nowhere else.
 * The facts that need a look at the host — who holds a lock, which part of a path exists and whether
 * it is writable, the user the agent runs as — are gathered by `explainStartupFailure`, through seams,
 * so `describeStartupFailure` stays a pure function of the error and those facts.
 */
import os from 'node:os';
import { AgentError, errorMessage, isConfigError, LockedError, type LockHolder } from './errors.js';
import { findLockHolder } from './lock-holder.js';
import { type PathProbe, probePath } from './path-probe.js';

export interface StartupContext {
  /** The module or step that failed: `state`, `devices`, `identity`, `telemetry`, `console`, `link`, … */
  readonly step: string;
  /** What it was doing, worded to follow "cannot": `open the telemetry store`. */
  readonly what: string;
  /** The file or directory involved. */
  readonly path?: string | undefined;
  /** The network address involved (a URL without credentials, `host:port`). */
  readonly address?: string | undefined;
  /** The configuration setting that chose that path or address, for the hint (`stateDir`, `link.url`). */
  readonly setting?: string | undefined;
}

/** A start-up step's failure, with the step's context; the underlying error is its `cause`. */
export class StartupError extends AgentError {
  readonly context: StartupContext;
  constructor(context: StartupContext, options: { cause: unknown }) {
    super('ESTARTUP', `cannot ${context.what}${where(context)}: ${errorMessage(options.cause)}`, options);
    this.context = context;
  }
}

function isStartupError(e: unknown): e is StartupError {
  return e instanceof StartupError;
}

/**
 * Runs one start-up step and wraps what it throws in a StartupError with `context`. A ConfigError
 * (exit 78) and a StartupError of an inner step pass through as they are.
 */
export async function inStep<T>(context: StartupContext, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isConfigError(error) || isStartupError(error)) throw error;
    throw new StartupError(context, { cause: error });
  }
}

/** What `describeStartupFailure` is told about the host (explainStartupFailure looks these up). */
export interface StartupFacts {
  /** The user the agent runs as. */
  readonly user?: { readonly name: string | undefined; readonly uid: number } | undefined;
  /** The agent's state directory, named when another agent may be using it. */
  readonly stateDir?: string | undefined;
  /** The process holding the lock of an `ELOCKED` error, when it could be found. */
  readonly lockHolder?: LockHolder | undefined;
  /** For a file-system error: what exists of the path and whether it is writable. */
  readonly pathProbe?: PathProbe | undefined;
}

export interface StartupFailure extends StartupContext {
  /** The code that explains it: an errno code (`EACCES`), `ELOCKED`, or the error's own code. */
  readonly code: string | undefined;
  /** The likely cause, in words. */
  readonly reason: string;
  /** What to check or do, when there is something to say. */
  readonly hint: string | undefined;
  /** The underlying errors' messages, outermost first. */
  readonly err: string;
  /** The underlying errors, outermost first (the step's own wrapper left out): for a debug log. */
  readonly causes: readonly Error[];
}

/** Codes of the file system, where a look at the path itself tells more than the code. */
const FS_CODES = new Set(['ENOENT', 'ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS']);
/** Codes this module has words for; the innermost of these in a cause chain explains the failure. */
const KNOWN_CODES = new Set([
  ...FS_CODES,
  'ELOCKED',
  'ENOSPC',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);
const NAME_RESOLUTION_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);

/**
 * Explains `error`, which `fallback` was doing unless a StartupError in it says otherwise. Pure: what
 * needs the host comes in `facts`.
 */
export function describeStartupFailure(
  error: unknown,
  fallback: StartupContext,
  facts: StartupFacts = {},
): StartupFailure {
  const causes = causeChain(error);
  const context = startupContextOf(error) ?? fallback;
  const errnoPath = causes.map((e) => stringField(e, 'path')).findLast((p) => p !== undefined);
  const subject = errnoPath ?? context.path;
  const probe = facts.pathProbe;
  let code = explainingCode(causes);
  // The path tells what the code does not: which part is a file, that a "missing" parent is read-only.
  if (probe && code && FS_CODES.has(code)) {
    const fileInTheWay =
      !probe.isDirectory && (probe.existing !== subject || code === 'ENOTDIR' || code === 'EEXIST');
    if (fileInTheWay) code = 'ENOTDIR';
    else if (probe.writeError && (code === 'ENOENT' || probe.writeError === 'EROFS')) code = probe.writeError;
  }
  const innermost = causes.at(-1);
  const words = explain(code, {
    context,
    facts,
    subject,
    dir: probe && !probe.writeError && probe.isDirectory ? subject : (probe?.existing ?? subject),
    host: causes.map((e) => stringField(e, 'hostname')).findLast((h) => h !== undefined),
    message: innermost ? innermost.message : errorMessage(error),
  });
  return {
    ...context,
    path: context.path ?? (context.address === undefined ? errnoPath : undefined),
    code,
    // Words say more than a known code (which stays in the log's `code`); an unknown one is kept.
    reason:
      code && words.unexplained && !words.reason.includes(code) ? `${words.reason} (${code})` : words.reason,
    hint: words.hint,
    err: causes.map((e) => e.message).join(': ') || errorMessage(error),
    causes,
  };
}

/** The one line: `cannot <what> <path or address>: <reason> — <hint>`. */
export function formatStartupFailure(f: StartupFailure): string {
  return `cannot ${f.what}${where(f)}: ${f.reason}${f.hint ? ` — ${f.hint}` : ''}`;
}

/** The structured fields of a failure's log line; with `debug`, each cause's stack too. */
export function startupFailureFields(
  f: StartupFailure,
  options: { debug?: boolean } = {},
): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    step: f.step,
    what: f.what,
    ...(f.path === undefined ? {} : { path: f.path }),
    ...(f.address === undefined ? {} : { address: f.address }),
    ...(f.code === undefined ? {} : { code: f.code }),
    reason: f.reason,
    ...(f.hint === undefined ? {} : { hint: f.hint }),
    err: f.err,
  };
  if (options.debug) {
    fields.causes = f.causes.map((e) => ({ name: e.name, code: stringField(e, 'code'), message: e.message }));
    fields.stack = f.causes.map((e) => e.stack ?? `${e.name}: ${e.message}`).join('\ncaused by: ');
  }
  return fields;
}

/** Whether a host name in `error` (or its causes) did not resolve: unknown, or no DNS answer. */
export function isNameResolutionError(error: unknown): boolean {
  return causeChain(error).some((e) => NAME_RESOLUTION_CODES.has(stringField(e, 'code') ?? ''));
}

/** The seams explainStartupFailure looks at the host through (tests replace them). */
export interface StartupHost {
  readonly stateDir?: string | undefined;
  /** `HostPaths.proc`, for the lock table. */
  readonly procDir?: string | undefined;
  readonly findLockHolder?: typeof findLockHolder;
  readonly probePath?: typeof probePath;
  readonly user?: () => StartupFacts['user'];
}

/** Looks up the facts `error` calls for (a lock's holder, the path's state, the user), then describes it. */
export async function explainStartupFailure(
  error: unknown,
  fallback: StartupContext,
  host: StartupHost = {},
): Promise<StartupFailure> {
  const causes = causeChain(error);
  const locked = causes.find((e): e is LockedError => e instanceof LockedError);
  const lockHolder =
    locked &&
    (locked.holder ?? (await (host.findLockHolder ?? findLockHolder)(locked.file, host.procDir)).holder);
  const code = explainingCode(causes);
  const subject =
    causes.map((e) => stringField(e, 'path')).findLast((p) => p !== undefined) ??
    (startupContextOf(error) ?? fallback).path;
  const pathProbe =
    code && FS_CODES.has(code) && subject ? await (host.probePath ?? probePath)(subject) : undefined;
  return describeStartupFailure(error, fallback, {
    stateDir: host.stateDir,
    user: (host.user ?? currentUser)(),
    lockHolder,
    pathProbe,
  });
}

function explain(
  code: string | undefined,
  x: {
    context: StartupContext;
    facts: StartupFacts;
    /** The path the error is about; `dir`: the part of it to fix (an existing parent, when it is missing). */
    subject: string | undefined;
    dir: string | undefined;
    host: string | undefined;
    message: string;
  },
): { reason: string; hint?: string | undefined; unexplained?: true } {
  const { context, facts, dir } = x;
  const orChange = context.setting ? `, or change ${context.setting}` : '';
  const user = facts.user;
  switch (code) {
    case 'ELOCKED': {
      const h = facts.lockHolder;
      const holder = h
        ? ` (pid ${h.pid}${h.command ? `, ${h.command}` : ''})`
        : ' (which one could not be found)';
      const where = facts.stateDir ? `stateDir ${facts.stateDir}` : 'this state directory';
      return {
        reason: `it is locked by another process${holder}`,
        hint: `is another edge-agent running with ${where}? Stop it, or give each agent its own stateDir`,
      };
    }
    case 'EACCES':
    case 'EPERM': {
      const who = user && (user.name ? `${user.name} (uid ${user.uid})` : `uid ${user.uid}`);
      return {
        reason: who ? `permission denied to ${who}` : 'permission denied',
        hint: accessHint(user?.name, x.subject, facts.pathProbe) + orChange,
      };
    }
    case 'EROFS':
      return {
        reason: `${dir ?? 'it'} is on a read-only file system`,
        hint: `remount it read-write${orChange ? `${orChange} to a writable place` : ''}`,
      };
    case 'ENOTDIR':
      return facts.pathProbe && !facts.pathProbe.isDirectory
        ? {
            reason: `${facts.pathProbe.existing} is not a directory`,
            hint: `move ${facts.pathProbe.existing} out of the way${orChange}`,
          }
        : {
            reason: 'a part of the path is not a directory',
            hint: context.setting && `check ${context.setting}`,
          };
    case 'ENOSPC':
      return {
        reason: 'no space left on the device',
        hint: `free space on the file system of ${dir ?? 'it'}`,
      };
    case 'EDQUOT':
      return { reason: 'the disk quota is used up', hint: `free space or raise the quota of ${dir ?? 'it'}` };
    case 'EMFILE':
    case 'ENFILE':
      return { reason: 'too many open files', hint: 'raise LimitNOFILE= in the service unit' };
    case 'EADDRINUSE':
      return context.path
        ? {
            reason: 'another process is listening on it',
            hint: `is another edge-agent running? Stop it${orChange}`,
          }
        : { reason: 'the address is in use', hint: `another process listens there; stop it${orChange}` };
    case 'EADDRNOTAVAIL':
      return { reason: 'this host has no such address', hint: context.setting && `check ${context.setting}` };
    case 'ENOTFOUND':
      return {
        reason: x.host ? `the host name ${x.host} does not resolve` : 'the host name does not resolve',
        hint: `check the host name${context.setting ? ` in ${context.setting}` : ''} and the DNS settings (/etc/resolv.conf)`,
      };
    case 'EAI_AGAIN':
      return {
        reason: `no answer from the name server${x.host ? ` for ${x.host}` : ''} (temporary failure)`,
        hint: 'is the network up and a DNS server reachable?',
      };
    case 'ECONNREFUSED':
      return {
        reason: 'the connection was refused',
        hint: 'is the server running and listening on that port?',
      };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { reason: 'the host is unreachable', hint: 'check the network and the route to it' };
    case 'ETIMEDOUT':
      return { reason: 'it timed out', hint: 'check the network and that the far end is up' };
    default:
      return { reason: x.message, unexplained: true };
  }
}

/**
 * Who needs what: a missing directory under a parent the user may not write is created for the user
 * (the parent, `/var/lib`, is not to be handed over); an existing one is handed over.
 */
function accessHint(
  user: string | undefined,
  subject: string | undefined,
  probe: PathProbe | undefined,
): string {
  const who = user ?? "the agent's user";
  if (subject && probe && probe.existing !== subject) {
    return `create ${subject} for ${who}${user ? ` (install -d -o ${user} ${subject})` : ''}`;
  }
  const dir = probe?.existing ?? subject;
  if (!dir) return `give ${who} write access`;
  return `give ${who} write access to ${dir}${user ? ` (chown -R ${user} ${dir})` : ''}`;
}

/** The errors under `error`'s StartupError wrappers, outermost first, following `cause`. */
function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 16; depth++) {
    if (!(current instanceof Error)) {
      chain.push(new Error(String(current)));
      break;
    }
    if (!(current instanceof StartupError)) chain.push(current);
    current = current.cause;
  }
  return chain;
}

/** The innermost StartupError's context: the step closest to the failure. */
function startupContextOf(error: unknown): StartupContext | undefined {
  let context: StartupContext | undefined;
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 16; depth++) {
    if (current instanceof StartupError) context = current.context;
    current = current.cause;
  }
  return context;
}

/** The innermost code this module has words for; else the outermost code there is. */
function explainingCode(causes: readonly Error[]): string | undefined {
  const codes = causes.map((e) => stringField(e, 'code')).filter((c): c is string => c !== undefined);
  return codes.findLast((c) => KNOWN_CODES.has(c)) ?? codes[0];
}

function stringField(e: Error, key: 'code' | 'path' | 'hostname'): string | undefined {
  const value = (e as unknown as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

function where(c: { readonly path?: string | undefined; readonly address?: string | undefined }): string {
  if (c.path !== undefined) return ` ${c.path}`;
  if (c.address !== undefined) return ` at ${c.address}`;
  return '';
}

function currentUser(): StartupFacts['user'] {
  try {
    const info = os.userInfo();
    return { name: info.username, uid: info.uid };
  } catch {
    // A uid without a passwd entry (a container's arbitrary uid) has no name.
    const uid = process.getuid?.();
    return uid === undefined ? undefined : { name: undefined, uid };
  }
}
