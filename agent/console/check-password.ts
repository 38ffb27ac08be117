/**
 * The password check every way in shares (the login prompt, script mode): the authenticator's verdict
 * and the audit entries it leaves — a login, a failure with its count, a refusal while locked, and the
 * lockout a failure started. What the peer is told stays with each way in.
 */
import type { AuditEntry } from './audit-log.js';
import type { Authenticator, LoginOutcome } from './authenticator.js';

export interface PasswordCheckDeps {
  readonly auth: Authenticator;
  /** The way in, e.g. `serial:/dev/ttyGS0`: what login pacing counts by. */
  readonly peer: string;
  audit(entry: Omit<AuditEntry, 'session'>): Promise<void>;
}

export async function checkPassword(
  deps: PasswordCheckDeps,
  name: string,
  password: string,
): Promise<LoginOutcome> {
  const outcome = await deps.auth.login(name, password, deps.peer);
  if (outcome.ok) {
    await deps.audit({ event: 'login', who: name, result: 'ok' });
  } else if (outcome.reason === 'locked') {
    await deps.audit({ event: 'locked-out', who: name, result: 'denied' });
  } else {
    await deps.audit({
      event: 'login-failed',
      who: name,
      result: 'denied',
      code: `failures=${outcome.failures}`,
    });
    if (outcome.locked) {
      await deps.audit({
        event: 'locked-out',
        who: name,
        result: 'locked',
        code: `for=${outcome.lockedForMs}ms`,
      });
    }
  }
  return outcome;
}
