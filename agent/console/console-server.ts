/**
 * The console's sessions, whatever carries them: a transport (serial, socket, stdio) hands each peer
 * over as a `ConsoleLink` with what it knows of the peer's terminal, and gets back the session to
 * feed bytes into. The server numbers sessions for the audit log and closes them all, with a message,
 * when the agent stops.
 */
import { ScriptSession } from './script-session.js';
import { type ConsoleLink, ConsoleSession, type SessionDeps } from './session.js';
import type { TerminalInfo } from './terminal.js';

export interface ConsoleServerOptions {
  /** Log out after this long without a key (0: never). */
  readonly idleTimeoutMs: number;
  /** Close a connection (a session that hangs up at logout) not logged in after this long (0: never). */
  readonly loginTimeoutMs?: number;
}

export interface AttachOptions {
  readonly terminal: TerminalInfo;
  readonly hangupOnLogout: boolean;
}

export class ConsoleServer {
  readonly #deps: SessionDeps;
  readonly #options: ConsoleServerOptions;
  readonly #sessions = new Set<ConsoleSession>();
  readonly #scripts = new Set<ScriptSession>();
  #count = 0;
  #closed = false;

  constructor(deps: SessionDeps, options: ConsoleServerOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** True once `close()` was called: transports stop offering sessions. */
  get closed(): boolean {
    return this.#closed;
  }

  get sessions(): readonly ConsoleSession[] {
    return [...this.#sessions];
  }

  /** Starts a session on a new peer; it removes itself when it ends. */
  attach(link: ConsoleLink, options: AttachOptions): ConsoleSession {
    if (this.#closed) throw new TypeError('the console server is closed');
    const session = new ConsoleSession(this.#deps, link, {
      id: `${link.name}#${++this.#count}`,
      terminal: options.terminal,
      idleTimeoutMs: this.#options.idleTimeoutMs,
      hangupOnLogout: options.hangupOnLogout,
      loginTimeoutMs: this.#options.loginTimeoutMs ?? 0,
    });
    this.#sessions.add(session);
    this.#deps.log.info({ session: session.id }, 'console session opened');
    void session.start().finally(() => {
      this.#sessions.delete(session);
      this.#deps.log.info({ session: session.id }, 'console session closed');
    });
    return session;
  }

  /** Starts a script session (`edge-agent console -c`) on a new peer; it removes itself when it ends. */
  attachScript(link: ConsoleLink): ScriptSession {
    if (this.#closed) throw new TypeError('the console server is closed');
    const session = new ScriptSession(this.#deps, link, `${link.name}#${++this.#count}`);
    this.#scripts.add(session);
    void session.start().finally(() => this.#scripts.delete(session));
    return session;
  }

  /** Closes every session with `message` and refuses new ones. */
  async close(message: string): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#sessions, ...this.#scripts].map((s) => s.close(message)));
    await this.#deps.audit.flush();
  }
}
