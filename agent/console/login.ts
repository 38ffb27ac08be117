/**
 * One pass at the `login:` prompt: the name, the peer's pace (`Authenticator.reserve`, per transport,
 * so reconnecting does not reset it), names no user can have refused before the password prompt, the
 * password, and what a failure costs — said, not left for the technician to guess: the pause before
 * the next prompt counts down (in place on a terminal) and says that what is typed meanwhile is
 * ignored; a locked name says how long it stays locked. An empty line shows the banner again (a
 * technician who connects to a serial port after the banner went out presses Enter).
 */
import type { AuditEntry } from './audit-log.js';
import type { Authenticator } from './authenticator.js';
import { checkPassword } from './check-password.js';
import type { ReadLineOptions } from './line-editor.js';
import { formatDurationMs } from './render.js';
import type { Terminal } from './terminal.js';
import { honourUnlockRequest, type UnlockRequests } from './unlock-requests.js';
import { isUserName, MAX_USER_NAME_CHARS } from './user-name.js';

export const LOGIN_PROMPT = 'login: ';
/** The longest password the prompt takes, in characters. */
export const MAX_PASSWORD_CHARS = 1024;

export interface LoginContext {
  readonly auth: Authenticator;
  readonly term: Terminal;
  /** The way in, e.g. `serial:/dev/ttyGS0`, `socket`: what login pacing counts by. */
  readonly peer: string;
  /** A line; undefined after Ctrl-C, null after Ctrl-D on an empty line. */
  readLine(options: ReadLineOptions): Promise<string | undefined | null>;
  /** Waits `ms` (on the session's clock and signal), dropping whatever is typed meanwhile. */
  pauseDiscarding(ms: number): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** Forgets keys typed ahead (a password must not become the next user name). */
  clearTypedAhead(): void;
  showBanner(): Promise<void>;
  audit(entry: Omit<AuditEntry, 'session'>): Promise<void>;
  /** Unlocks the local administrator asked for (`edge-agent passwd --unlock`); none if absent. */
  readonly unlocks: UnlockRequests | undefined;
  /** The user's previous successful login, from the audit trail. */
  lastLogin(name: string): Promise<{ ts: string; session: string } | undefined>;
}

export type LoginResult =
  | { readonly user: string; readonly lastLogin: { ts: string; session: string } | undefined }
  | 'eof'
  | undefined;

export async function login(ctx: LoginContext): Promise<LoginResult> {
  const { term, auth } = ctx;
  const answer = await ctx.readLine({ prompt: LOGIN_PROMPT, maxLength: MAX_USER_NAME_CHARS });
  if (answer === null) return 'eof';
  if (answer === undefined) return undefined;
  const name = answer.trim();
  if (name === '') {
    await ctx.showBanner();
    return undefined;
  }
  if (name === 'login') return undefined;
  if (name === 'help') {
    term.line('Log in with your console user name and password. Before login only help works.');
    return undefined;
  }
  if (!(await waitTurn(ctx))) return undefined;
  if (!isUserName(name)) {
    // No user can have this name: refused before the password prompt, and never hashed or tracked.
    term.line(term.style('Login incorrect.', 'red'));
    await ctx.audit({ event: 'login-failed', who: name, result: 'denied', code: 'invalid-name' });
    return undefined;
  }
  await honourUnlockRequest(name, { unlocks: ctx.unlocks, auth, audit: ctx.audit });
  const check = auth.check(name);
  if (!check.allowed) {
    term.line(lockedText(name, check.retryAfterMs));
    await ctx.audit({ event: 'locked-out', who: name, result: 'denied' });
    return undefined;
  }
  const password = await ctx.readLine({ prompt: 'password: ', secret: true, maxLength: MAX_PASSWORD_CHARS });
  if (password == null) return undefined;
  const previous = await ctx.lastLogin(name); // read before this login is audited
  const outcome = await checkPassword(ctx, name, password);
  if (outcome.ok) return { user: name, lastLogin: previous };
  if (outcome.reason === 'locked') {
    term.line(lockedText(name, outcome.retryAfterMs));
    return undefined;
  }
  term.line(term.style('Login incorrect.', 'red'));
  if (outcome.locked) {
    term.line(
      `Too many failures: logins as ${name} are locked for ${formatDurationMs(outcome.lockedForMs)}` +
        ' (an administrator can lift it: edge-agent passwd --unlock).',
    );
  }
  await countDown(ctx, outcome.delayMs);
  return undefined;
}

function lockedText(name: string, retryAfterMs: number): string {
  return `Logins as ${name} are locked; try again in ${formatDurationMs(retryAfterMs)}.`;
}

/** Counts a login attempt on this peer, waits its turn; false if refused (unpaced: not audited). */
async function waitTurn(ctx: LoginContext): Promise<boolean> {
  const turn = ctx.auth.reserve(ctx.peer);
  if (!turn.allowed) {
    const again = formatDurationMs(turn.retryAfterMs);
    ctx.term.line(`Too many login attempts on ${ctx.peer}; try again in ${again}.`);
    ctx.clearTypedAhead();
    return false;
  }
  if (turn.waitMs <= 0) return true;
  ctx.term.line(`Too many failed logins on ${ctx.peer}; wait ${formatDurationMs(turn.waitMs)}.`);
  await ctx.sleep(turn.waitMs);
  return true;
}

/**
 * The pause after a failure, said out loud: on a terminal one line counting down in whole seconds;
 * on a pipe one line. Keys typed meanwhile are dropped, as the line says.
 */
async function countDown(ctx: LoginContext, delayMs: number): Promise<void> {
  const { term } = ctx;
  const text = (ms: number) => `Next login prompt in ${Math.ceil(ms / 1000)} s; input meanwhile is ignored.`;
  if (!term.ansi) {
    term.line(text(delayMs));
    await ctx.pauseDiscarding(delayMs);
    return;
  }
  let left = delayMs;
  while (left > 0) {
    term.eraseLine();
    term.write(term.style(text(left), 'dim'));
    const step = left % 1000 || 1000;
    await ctx.pauseDiscarding(step);
    left -= step;
  }
  term.eraseLine();
}
