/**
 * The console for scripts (`edge-agent console -c 'status --json'`, or commands piped in): no banner,
 * no prompts, no echo, no questions. The first line is the user name, the second the password, each
 * further line a registry command. Replies are frames, one per line, so the client can keep what a
 * script parses apart from what a person reads and exit with the outcome (docs/wire-formats.md):
 *
 *   `o <text>`  for stdout: a command's result (one JSON line with `--json`, else the text view)
 *   `e <text>`  for stderr: login failures, refused commands
 *   `x <code>`  the end: 0 all ran and succeeded, 1 login failed, 2 a command failed or was refused
 *
 * The login is the interactive console's: paced per way in, counted before the check, audited; a
 * failed login ends the script at once (no pause to sit out: nothing more is read). A command that
 * actuates runs only with `--yes` (a script cannot be asked). Console built-ins that need a person
 * (`points watch`, `logs -f`) are refused. Lines are bounded as on the interactive console.
 */
import type { CommandResult } from '../commands/registry.js';
import { errorMessage } from '../core/errors.js';
import type { AuditEntry } from './audit-log.js';
import { checkPassword } from './check-password.js';
import { parseLine, resolveCommand } from './command-line.js';
import { MAX_LINE_CHARS } from './line-editor.js';
import { MAX_PASSWORD_CHARS } from './login.js';
import type { ConsoleLink, SessionDeps } from './session.js';
import { honourUnlockRequest } from './unlock-requests.js';
import { isUserName } from './user-name.js';
import { renderResult } from './views.js';

export const SCRIPT_EXIT = { ok: 0, login: 1, command: 2 } as const;

/** Bytes of input kept while earlier lines run; a script sending more than this is cut off. */
const MAX_PENDING_BYTES = 256 * 1024;

export class ScriptSession {
  readonly id: string;
  readonly #deps: SessionDeps;
  readonly #link: ConsoleLink;
  readonly #lines: string[] = [];
  #partial = '';
  #ended = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #done: Promise<void> | undefined;

  constructor(deps: SessionDeps, link: ConsoleLink, id: string) {
    this.#deps = deps;
    this.#link = link;
    this.id = id;
  }

  start(): Promise<void> {
    this.#done ??= this.#run().catch((error: unknown) => {
      this.#deps.log.error({ session: this.id, err: errorMessage(error) }, 'console script failed');
      this.#finish(SCRIPT_EXIT.command, 'console error');
    });
    return this.#done;
  }

  input(chunk: Uint8Array | string): void {
    if (this.#closed) return;
    const text = this.#partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#lines.push(line.replace(/\r$/, ''));
    const pending = this.#partial.length + this.#lines.reduce((n, l) => n + l.length + 1, 0);
    if (pending > MAX_PENDING_BYTES || this.#partial.length > MAX_PASSWORD_CHARS + MAX_LINE_CHARS) {
      this.#finish(SCRIPT_EXIT.command, `input too long (over ${MAX_PENDING_BYTES} bytes waiting)`);
      return;
    }
    this.#wake?.();
  }

  endOfInput(): void {
    if (this.#partial !== '') this.#lines.push(this.#partial);
    this.#partial = '';
    this.#ended = true;
    this.#wake?.();
  }

  hangup(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async close(message: string): Promise<void> {
    this.#finish(SCRIPT_EXIT.command, message);
    await this.#done;
  }

  async #run(): Promise<void> {
    const user = await this.#login();
    if (user === undefined) return;
    let failed = false;
    for (;;) {
      const line = await this.#nextLine();
      if (line === undefined) break;
      if (line.trim() === '') continue;
      if (/^(logout|exit|quit)$/.test(line.trim())) break;
      if (!(await this.#command(user, line.trim()))) failed = true;
    }
    if (this.#closed) return;
    await this.#audit({ event: 'logout', who: user, result: 'ok' });
    this.#finish(failed ? SCRIPT_EXIT.command : SCRIPT_EXIT.ok);
  }

  async #login(): Promise<string | undefined> {
    const name = (await this.#nextLine())?.trim();
    const password = await this.#nextLine();
    if (name === undefined || password === undefined) {
      this.#finish(SCRIPT_EXIT.login, 'login: expected a user name line and a password line');
      return undefined;
    }
    const { auth, clock } = this.#deps;
    const turn = auth.reserve(this.#link.name);
    if (!turn.allowed) {
      this.#finish(SCRIPT_EXIT.login, `too many login attempts on ${this.#link.name}; try again later`);
      return undefined;
    }
    if (turn.waitMs > 0) await clock.sleep(turn.waitMs);
    if (!isUserName(name) || password.length > MAX_PASSWORD_CHARS) {
      await this.#audit({ event: 'login-failed', who: name, result: 'denied', code: 'invalid-name' });
      this.#finish(SCRIPT_EXIT.login, 'login incorrect');
      return undefined;
    }
    await honourUnlockRequest(name, { unlocks: this.#deps.unlocks, auth, audit: (e) => this.#audit(e) });
    const outcome = await checkPassword(
      { auth, peer: this.#link.name, audit: (e) => this.#audit(e) },
      name,
      password,
    );
    if (outcome.ok) return name;
    this.#finish(
      SCRIPT_EXIT.login,
      outcome.reason === 'locked' ? `logins as ${name} are locked; try again later` : 'login incorrect',
    );
    return undefined;
  }

  /** Runs one command line; false if it failed or was refused. */
  async #command(user: string, line: string): Promise<boolean> {
    const refuse = async (message: string, code = 'EUSAGE') => {
      this.#frame('e', `error ${code}: ${message}`);
      await this.#audit({ event: 'command', who: user, what: line, result: 'error', code, message });
      return false;
    };
    if (line.length > MAX_LINE_CHARS) return refuse(`line too long (over ${MAX_LINE_CHARS} characters)`);
    const parsed = parseLine(line);
    if ('error' in parsed) return refuse(parsed.error);
    const { words, json, yes } = parsed;
    if (['points watch', 'logs', 'history', 'clear', 'help'].some((b) => words.join(' ').startsWith(b))) {
      return refuse(`${words[0]} is for the interactive console`);
    }
    const resolved = resolveCommand(words, this.#deps.commands);
    if (!resolved.ok) return refuse(resolved.message);
    const { command, args } = resolved;
    const audited = {
      event: 'command' as const,
      who: user,
      what: words.join(' '),
      command: command.name,
      args,
    };
    if (command.actuates && !yes) {
      return refuse(`${command.name} changes the process: add --yes (a script is not asked)`, 'ECONFIRM');
    }
    const result = await this.#deps.commands.execute(command.name, args, { via: 'console', who: user });
    await this.#audit(
      result.ok
        ? { ...audited, result: 'ok' }
        : { ...audited, result: 'error', code: result.code, message: result.message },
    );
    this.#print(result, json);
    return result.ok;
  }

  #print(result: CommandResult, json: boolean): void {
    if (json) this.#frame('o', JSON.stringify(result));
    else if (result.ok)
      this.#frame(
        'o',
        renderResult(result.command, result.result, (t) => t),
      );
    else this.#frame('e', `error ${result.code}: ${result.message}`);
  }

  #frame(kind: 'o' | 'e', text: string): void {
    for (const line of text.split('\n')) this.#link.send(`${kind} ${line}\n`);
  }

  #finish(code: number, message?: string): void {
    if (this.#closed) return;
    if (message) this.#frame('e', message);
    this.#link.send(`x ${code}\n`);
    this.#closed = true;
    this.#wake?.();
    this.#link.hangup();
  }

  async #nextLine(): Promise<string | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  #audit(entry: Omit<AuditEntry, 'session'>): Promise<void> {
    return this.#deps.audit.record({ session: this.id, ...entry });
  }
}
