/**
 * One console session on one peer (a serial line, a socket connection, stdio): the login, then a
 * prompt that runs commands until `logout`, Ctrl-D, idle timeout or shutdown. Written as sequential
 * code over a key queue; every wait takes the session's abort signal, so idle logout and `close()`
 * unwind whatever the session was doing (a prompt, `points watch`, a confirmation) in one place.
 *
 * Before login only `help` (and a user name) is accepted; the login prompt itself is login.ts. After
 * login, every command line — accepted, refused, cancelled or failed — goes to the audit log.
 *
 * Hostile peers: a line longer than its prompt allows (32 characters for a name, 1 KiB for a password,
 * 4 KiB for a command) is dropped with a bell and never run; a peer that goes on typing more than
 * `PRE_LOGIN_FLOOD_CHARS` beyond a full line before logging in is hung up on; a connection that has
 * not logged in within `loginTimeoutMs` is closed (transports that can hang up: the socket).
 */
import type { TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import type { Authenticator } from './authenticator.js';
import { showBanner, welcome } from './banner.js';
import { completions } from './completion.js';
import { KeyQueue } from './key-queue.js';
import { type Key, KeyDecoder } from './keys.js';
import { LineEditor, MAX_LINE_CHARS, type ReadLineOptions } from './line-editor.js';
import { type LogFilter, matchesLogFilter, SHOW_ALL } from './log-filter.js';
import { LOGIN_PROMPT, type LoginResult, login } from './login.js';
import { formatDurationMs } from './render.js';
import { runShellLine, type ShellContext, type ShellDeps } from './shell.js';
import { Terminal, type TerminalInfo } from './terminal.js';
import type { UnlockRequests } from './unlock-requests.js';

/** Characters dropped from full lines, before login, after which the peer is hung up on. */
export const PRE_LOGIN_FLOOD_CHARS = 4096;

/** The peer end, as a transport provides it. */
export interface ConsoleLink {
  /** Transport and address, e.g. `serial:/dev/ttyGS0`, `socket`, `stdio`. */
  readonly name: string;
  send(text: string): void;
  /** Ends the connection (a socket); a serial line or stdio has nothing to end. */
  hangup(): void;
}

export interface SessionDeps extends ShellDeps {
  readonly log: Logger;
  readonly auth: Authenticator;
  readonly audit: AuditLog;
  /** Unlocks the local administrator asked for (`edge-agent passwd --unlock`); none if absent. */
  readonly unlocks?: UnlockRequests | undefined;
  /** First line of the banner, e.g. `edge-agent 0.1.0 on rpi4`; the rest comes from `status`. */
  readonly banner: string;
}

export interface SessionOptions {
  readonly id: string;
  readonly terminal: TerminalInfo;
  readonly idleTimeoutMs: number;
  /** End the connection at logout (socket) instead of offering a new login (serial, stdio). */
  readonly hangupOnLogout: boolean;
  /** A session that ends its connection (`hangupOnLogout`) and is not logged in by then is closed; 0 never. */
  readonly loginTimeoutMs?: number;
}

class SessionEnd extends Error {
  constructor(readonly reason: 'idle' | 'closed' | 'eof') {
    super(reason);
  }
}

export class ConsoleSession {
  readonly id: string;
  readonly #deps: SessionDeps;
  readonly #link: ConsoleLink;
  readonly #options: SessionOptions;
  readonly #term: Terminal;
  readonly #decoder = new KeyDecoder();
  readonly #keys = new KeyQueue();
  readonly #editor: LineEditor;
  readonly #closed = new AbortController();
  #scope: AbortController | undefined;
  #user: string | undefined;
  #idle: TimerHandle | undefined;
  #loginTimer: TimerHandle | undefined;
  #reading = false;
  #discarding = false;
  #onInterrupt: (() => void) | undefined;
  /** Live log lines shown above the prompt (`logs off|on|LEVEL`); off while `logs -f` follows. */
  #liveLogs: LogFilter | 'off' = SHOW_ALL;
  #lastKey: string | undefined;
  #done: Promise<void> | undefined;

  constructor(deps: SessionDeps, link: ConsoleLink, options: SessionOptions) {
    this.id = options.id;
    this.#deps = deps;
    this.#link = link;
    this.#options = options;
    this.#term = new Terminal((text) => link.send(text), options.terminal);
    this.#editor = new LineEditor((text) => this.#term.write(text));
  }

  /** The logged-in user, if any. */
  get user(): string | undefined {
    return this.#user;
  }

  /** Whether the session is waiting for a key (nothing of its own in progress). */
  get waitingForInput(): boolean {
    return this.#keys.waiting;
  }

  /** Nobody is logged in and the `login:` prompt is empty: Ctrl-C here may mean "stop" (stdio). */
  get atEmptyLoginPrompt(): boolean {
    return (
      this.#user === undefined &&
      this.#reading &&
      this.#editor.prompt === LOGIN_PROMPT &&
      this.#editor.typed === ''
    );
  }

  get terminal(): Terminal {
    return this.#term;
  }

  /** Starts the session; the promise settles when it has ended (logout on a socket, or `close()`). */
  start(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  /** Bytes from the peer. */
  input(chunk: Uint8Array | string): void {
    if (this.#closed.signal.aborted) return;
    this.#armIdle();
    for (const key of this.#decoder.decode(chunk)) {
      if (this.#discarding) continue;
      if (key.name === 'interrupt' && this.#onInterrupt) this.#onInterrupt();
      else this.#keys.push(key);
    }
  }

  #floodHangup(): void {
    this.#deps.log.warn({ session: this.id }, 'console input flood before login: hanging up');
    this.#end('closed', 'input flood: disconnected');
  }

  /** The peer sent its last byte but still reads (a script piped into the socket): Ctrl-D from now on. */
  endOfInput(): void {
    this.#keys.end();
  }

  /** The peer went away (socket closed, serial device gone): end without writing to it. */
  hangup(): void {
    this.#end('closed', undefined);
  }

  /** Prints `message`, logs out and ends the session (shutdown). Resolves when it has ended. */
  async close(message: string): Promise<void> {
    this.#end('closed', message);
    await this.#done;
  }

  /**
   * Prints a live log line above the prompt, keeping what the user is typing (the stdio console), unless
   * the session turned such lines off or down (`logs off|LEVEL`) or is following the log itself.
   */
  printAbove(text: string): void {
    if (this.#liveLogs === 'off' || !matchesLogFilter(text, this.#liveLogs)) return;
    if (!this.#reading) {
      this.#term.line(text);
      return;
    }
    this.#term.eraseLine();
    this.#term.line(text);
    this.#editor.redraw();
  }

  #end(reason: 'closed', message: string | undefined): void {
    if (this.#closed.signal.aborted) return;
    if (message) {
      this.#term.write(this.#reading ? '\n' : '');
      this.#term.line(this.#term.style(`*** ${message} ***`, 'bold'));
    }
    this.#idle?.cancel();
    this.#loginTimer?.cancel();
    this.#closed.abort(new SessionEnd(reason));
  }

  async #run(): Promise<void> {
    await showBanner(this.#term, this.#deps.commands, this.#deps.banner);
    this.#armLoginTimeout();
    let stop = false;
    while (!this.#closed.signal.aborted && !stop) {
      let loggedIn = false;
      try {
        const login = await this.#login();
        loggedIn = login !== undefined;
        if (loggedIn) this.#loginTimer?.cancel();
        if (login) await this.#shell(login.user, login.lastLogin);
      } catch (error) {
        if (error instanceof SessionEnd && error.reason === 'eof') stop = true;
        else if (!(error instanceof SessionEnd)) {
          this.#deps.log.error({ session: this.id, err: errorMessage(error) }, 'console session failed');
          this.#end('closed', 'console error');
        }
        if (this.#user) {
          const reason = error instanceof SessionEnd ? error.reason : 'error';
          if (reason === 'idle') {
            this.#term.line(
              `\n*** logged out after ${formatDurationMs(this.#options.idleTimeoutMs)} without input ***`,
            );
          }
          await this.#audit({ event: 'logout', who: this.#user, result: reason });
        }
      } finally {
        this.#user = undefined;
        this.#scope = undefined;
        this.#idle?.cancel();
        this.#onInterrupt = undefined;
        this.#reading = false;
      }
      if (loggedIn && this.#options.hangupOnLogout) stop = true;
    }
    this.#loginTimer?.cancel();
    this.#closed.abort(new SessionEnd('closed'));
    this.#link.hangup();
  }

  async #login(): Promise<Exclude<LoginResult, 'eof'>> {
    const signal = this.#closed.signal;
    const result = await login({
      auth: this.#deps.auth,
      term: this.#term,
      peer: this.#link.name,
      readLine: (options) => this.#readLine(options, signal),
      pauseDiscarding: (ms) => this.#pause(ms, signal),
      sleep: (ms) => this.#deps.clock.sleep(ms, signal),
      clearTypedAhead: () => this.#keys.clear(),
      showBanner: () => showBanner(this.#term, this.#deps.commands, this.#deps.banner),
      audit: (entry) => this.#audit(entry),
      lastLogin: (name) => this.#deps.audit.lastLogin(name),
      unlocks: this.#deps.unlocks,
    });
    if (result === 'eof') {
      if (this.#options.hangupOnLogout) throw new SessionEnd('eof');
      return undefined;
    }
    return result;
  }

  /** Waits out a login delay; keys typed meanwhile are dropped. */
  async #pause(delayMs: number, signal: AbortSignal): Promise<void> {
    this.#discarding = true;
    this.#keys.clear();
    try {
      await this.#deps.clock.sleep(delayMs, signal);
    } finally {
      this.#discarding = false;
      this.#keys.clear();
    }
  }

  async #shell(user: string, lastLogin: { ts: string; session: string } | undefined): Promise<void> {
    const scope = new AbortController();
    const signal = AbortSignal.any([this.#closed.signal, scope.signal]);
    this.#user = user;
    this.#scope = scope;
    this.#armIdle();
    this.#term.line(`Logged in as ${user}. Type 'help' for commands, 'logout' to leave.`);
    await welcome(this.#term, this.#deps.commands, lastLogin);
    const shell: ShellContext = {
      deps: this.#deps,
      term: this.#term,
      user,
      session: this.id,
      signal,
      history: () => this.#editor.history,
      readLine: (options) => this.#readLine(options, signal),
      nextKeyWithin: (ms) => this.#keys.nextWithin(this.#deps.clock, ms, signal),
      onInterrupt: (fn) => {
        this.#onInterrupt = fn;
        return () => {
          if (this.#onInterrupt === fn) this.#onInterrupt = undefined;
        };
      },
      audit: (entry) => this.#audit({ event: 'command', who: user, ...entry }),
      unlock: (name) => this.#deps.auth.unlock(name),
      setLiveLogs: (filter) => {
        const before = this.#liveLogs;
        this.#liveLogs = filter;
        return () => {
          this.#liveLogs = before;
        };
      },
    };
    for (;;) {
      const line = await this.#readLine(
        {
          prompt: this.#term.style(`${user}@edge> `, 'bold'),
          history: true,
          complete: (before) => completions(before, this.#deps.commands),
        },
        signal,
      );
      if (line === null) {
        await this.#logout(user, 'eof');
        return;
      }
      if (line === undefined || line.trim() === '') continue;
      if ((await runShellLine(shell, line.trim())) === 'logout') {
        await this.#logout(user, 'ok');
        return;
      }
    }
  }

  async #logout(user: string, result: string): Promise<void> {
    this.#term.line('Logged out.');
    await this.#audit({ event: 'logout', who: user, result });
    this.#user = undefined;
  }

  /** A line; undefined after Ctrl-C, null after Ctrl-D on an empty line. */
  async #readLine(options: ReadLineOptions, signal: AbortSignal): Promise<string | undefined | null> {
    this.#editor.begin(options);
    this.#reading = true;
    try {
      for (;;) {
        const key: Key = await this.#keys.next(signal);
        if (key.name === 'clear' && this.#term.clearScreen()) {
          this.#editor.redraw();
          continue;
        }
        const { complete } = options;
        if (complete && (key.name === 'tab' || (key.name === 'char' && key.text === '?'))) {
          // A second Tab in a row, or `?`, lists what fits; one Tab completes what it can.
          const list = key.name === 'char' || this.#lastKey === 'tab';
          this.#lastKey = key.name;
          this.#editor.completeWith(await complete(this.#editor.typedBeforeCursor), list);
          continue;
        }
        this.#lastKey = key.name;
        const result = this.#editor.key(key);
        if (this.#user === undefined && this.#editor.droppedChars > PRE_LOGIN_FLOOD_CHARS) {
          this.#floodHangup();
          throw new SessionEnd('closed');
        }
        if (!result) continue;
        if (result.done === 'line' && result.truncated) {
          const max = options.maxLength ?? MAX_LINE_CHARS;
          this.#term.line(`Line too long (over ${max} characters): dropped.`);
          return undefined;
        }
        if (result.done === 'line') return result.text;
        return result.done === 'eof' ? null : undefined;
      }
    } finally {
      this.#reading = false;
    }
  }

  #armLoginTimeout(): void {
    const timeoutMs = this.#options.loginTimeoutMs ?? 0;
    if (!this.#options.hangupOnLogout || !(timeoutMs > 0)) return;
    this.#loginTimer = this.#deps.clock.setTimeout(() => {
      if (this.#user !== undefined) return;
      this.#deps.log.info({ session: this.id }, 'console connection not logged in in time: closing');
      this.#end('closed', `not logged in within ${formatDurationMs(timeoutMs)}: disconnected`);
    }, timeoutMs);
  }

  #armIdle(): void {
    this.#idle?.cancel();
    this.#idle = undefined;
    const scope = this.#scope;
    if (!scope || !(this.#options.idleTimeoutMs > 0)) return;
    this.#idle = this.#deps.clock.setTimeout(() => {
      if (this.#scope === scope) scope.abort(new SessionEnd('idle'));
    }, this.#options.idleTimeoutMs);
  }

  #audit(entry: Omit<AuditEntry, 'session'>): Promise<void> {
    return this.#deps.audit.record({ session: this.id, ...entry });
  }
}
