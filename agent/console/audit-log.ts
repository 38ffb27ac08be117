/**
 * The console's audit trail: one JSON line per login, logout and command — who, when, from where,
 * what was typed (the resolved command and arguments) and how it ended — appended to
 * `<stateDir>/console-audit.jsonl`. Passwords are never recorded. Lines are appended in order through
 * one queue; at `maxBytes` the file becomes `.1`, `.1` becomes `.2`, … up to `generations` older files
 * (the oldest is dropped), so an SD card never fills. Every field is bounded (`audit-bounds.ts`), so one
 * entry is a few KiB at most and can never rotate history away on its own. A failed write is logged and
 * does not stop the console: refusing service because the audit disk is full would lock the technician
 * out of the box they came to fix.
 */
import { appendFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { boundAuditEntry } from './audit-bounds.js';

export type AuditEvent = 'login' | 'login-failed' | 'locked-out' | 'unlocked' | 'logout' | 'command';

export interface AuditEntry {
  readonly event: AuditEvent;
  /** Console session, e.g. `serial:/dev/ttyGS0#2`, `socket#5`, `stdio#1`. */
  readonly session: string;
  /** Logged-in user, or the name tried at a failed login. */
  readonly who: string | undefined;
  /** The line as typed (commands), without flags. */
  readonly what?: string;
  readonly command?: string;
  readonly args?: unknown;
  /** `ok`, `error`, `cancelled` (confirmation declined), `denied`, `idle`, `interrupted`, `closed`. */
  readonly result: string;
  readonly code?: string;
  readonly message?: string;
}

export const AUDIT_FILE = 'console-audit.jsonl';

export interface AuditLogOptions {
  readonly stateDir: string;
  /** Size at which the file is rotated (default 1 MiB). */
  readonly maxBytes?: number;
  /** Older files kept, `.1` (newest) to `.N` (default 4). */
  readonly generations?: number;
}

export class AuditLog {
  readonly #file: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #maxBytes: number;
  readonly #generations: number;
  #queue: Promise<void> = Promise.resolve();
  #sizeBytes: number | undefined;

  constructor(deps: { clock: Clock; log: Logger }, options: AuditLogOptions) {
    const generations = options.generations ?? 4;
    if (!(Number.isInteger(generations) && generations >= 1))
      throw new TypeError(`generations must be an integer >= 1, got ${generations}`);
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#file = path.join(options.stateDir, AUDIT_FILE);
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
    this.#generations = generations;
  }

  get file(): string {
    return this.#file;
  }

  /** Queues one entry; resolves once it is on disk (or its failure was logged). Never rejects. */
  record(entry: AuditEntry): Promise<void> {
    const line = `${JSON.stringify({ ts: new Date(this.#clock.nowMs()).toISOString(), ...boundAuditEntry(entry) })}\n`;
    this.#queue = this.#queue.then(() => this.#append(line));
    return this.#queue;
  }

  /**
   * The latest successful login of `who` on record (this file and the previous generation), for
   * "Last login:". Reads at most `maxBytes` twice; undefined if none or unreadable.
   */
  async lastLogin(who: string): Promise<{ ts: string; session: string } | undefined> {
    await this.flush();
    for (const file of [this.#file, `${this.#file}.1`]) {
      const text = await readFile(file, 'utf8').catch(() => '');
      const lines = text.split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const entry = parseEntry(lines[i]!);
        if (entry?.event === 'login' && entry.who === who && entry.result === 'ok')
          return { ts: String(entry.ts), session: String(entry.session) };
      }
    }
    return undefined;
  }

  /** Resolves when every queued entry has been written. */
  flush(): Promise<void> {
    return this.#queue;
  }

  async #append(line: string): Promise<void> {
    try {
      if (this.#sizeBytes === undefined) {
        await mkdir(path.dirname(this.#file), { recursive: true, mode: 0o750 });
        this.#sizeBytes = await stat(this.#file).then(
          (s) => s.size,
          () => 0,
        );
      }
      if (this.#sizeBytes + Buffer.byteLength(line) > this.#maxBytes && this.#sizeBytes > 0) {
        await this.#rotate();
        this.#sizeBytes = 0;
      }
      await appendFile(this.#file, line, { mode: 0o640 });
      this.#sizeBytes += Buffer.byteLength(line);
    } catch (error) {
      this.#sizeBytes = undefined;
      this.#log.error({ err: errorMessage(error), file: this.#file }, 'console audit write failed');
    }
  }

  /** `.N-1` → `.N`, …, `.1` → `.2`, the file → `.1`; the oldest generation is overwritten. */
  async #rotate(): Promise<void> {
    for (let n = this.#generations - 1; n >= 1; n--) {
      await rename(`${this.#file}.${n}`, `${this.#file}.${n + 1}`).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    await rename(this.#file, `${this.#file}.1`);
  }
}

function parseEntry(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
