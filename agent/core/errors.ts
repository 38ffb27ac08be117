/**
 * Core error classes. Each carries a stable `code` so callers branch on data, never on messages; wrap
 * a lower-level failure with `cause`.
 */

export class AgentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A mistake in configuration, a wiring file or a board profile: the process exits with EX_CONFIG (78). */
export class ConfigError extends AgentError {
  readonly file: string | undefined;
  readonly issues: readonly ConfigIssue[];
  constructor(file: string | undefined, issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super('ECONFIG', formatConfigIssues(file, issues), options);
    this.file = file;
    this.issues = issues;
  }
}

export interface ConfigIssue {
  /** The file the issue is in, when not the error's own (a wiring file named by agent.yaml). */
  readonly file?: string | undefined;
  /** Dotted path of the offending field, e.g. `devices.2.address`; empty for the whole document. */
  readonly path: string;
  /** 1-based line in the file, when known. */
  readonly line?: number | undefined;
  readonly message: string;
}

function formatConfigIssues(file: string | undefined, issues: readonly ConfigIssue[]): string {
  return issues
    .map((i) => {
      const where = [i.file ?? file ?? '<config>', i.line !== undefined ? String(i.line) : undefined]
        .filter(Boolean)
        .join(':');
      return `${where}: ${i.path || '(document)'}: ${i.message}`;
    })
    .join('\n');
}

/** A point name that is not in the point table, or a write to a read-only point. */
export class PointError extends AgentError {
  readonly point: string;
  constructor(
    code: 'EUNKNOWN_POINT' | 'EREADONLY' | 'EDUPLICATE_POINT' | 'EBAD_VALUE' | 'EOUT_OF_RANGE' | 'EFORCED',
    point: string,
    message: string,
  ) {
    super(code, message);
    this.point = point;
  }
}

/** A timed-out operation (`withTimeout`, bus transactions). */
export class TimeoutError extends AgentError {
  constructor(message: string) {
    super('ETIMEDOUT', message);
  }
}

/**
 * A lock file that another process holds: a LevelDB database another agent has open. `holder` is that
 * process when it could be found (lock-holder.ts), for the message that tells the operator.
 */
export class LockedError extends AgentError {
  readonly file: string;
  readonly holder: LockHolder | undefined;
  constructor(file: string, message: string, options?: ErrorOptions & { holder?: LockHolder | undefined }) {
    super('ELOCKED', message, options);
    this.file = file;
    this.holder = options?.holder;
  }
}

/** A process that holds a lock: its pid (in our pid namespace) and what it runs, when known. */
export interface LockHolder {
  readonly pid: number;
  /** `edge-agent` when its command line is this agent's, else its program name. */
  readonly command: string | undefined;
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}

export function isAgentError(e: unknown): e is AgentError {
  return e instanceof AgentError;
}

/** Message of anything thrown, for logs. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
