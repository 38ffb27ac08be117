/**
 * How the local administrator lifts a console lockout without logging in: `edge-agent passwd --unlock
 * NAME` (run as root, or as the agent's user) leaves an empty file `<stateDir>/console-unlock/NAME`;
 * the next login attempt as NAME, on any console, takes it (deletes it) and starts with a clean
 * count. The state directory belongs to the agent's user (mode 0750), so its permissions are the
 * authorisation: no socket, no signal, nothing listening.
 */
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditEntry } from './audit-log.js';
import { isUserName } from './user-name.js';

export const UNLOCK_DIR = 'console-unlock';

export class UnlockRequests {
  readonly #dir: string;

  constructor(stateDir: string) {
    this.#dir = path.join(stateDir, UNLOCK_DIR);
  }

  /** Whether an unlock of `name` was requested; the request is used up. */
  async take(name: string): Promise<boolean> {
    if (!isUserName(name)) return false;
    return unlink(path.join(this.#dir, name)).then(
      () => true,
      () => false,
    );
  }

  /** Leaves the request (the `passwd --unlock` side). */
  async request(name: string): Promise<string> {
    if (!isUserName(name)) throw new TypeError(`${JSON.stringify(name)} is not a console user name`);
    await mkdir(this.#dir, { recursive: true, mode: 0o750 });
    const file = path.join(this.#dir, name);
    await writeFile(file, '');
    return file;
  }
}

/**
 * Before a login attempt as `name`: if the administrator asked to unlock it since, the lock and the
 * failure count are lifted and that is audited, so this attempt starts clean.
 */
export async function honourUnlockRequest(
  name: string,
  deps: {
    unlocks: UnlockRequests | undefined;
    auth: { unlock(name: string): boolean };
    audit(entry: Omit<AuditEntry, 'session'>): Promise<void>;
  },
): Promise<void> {
  if (!(await deps.unlocks?.take(name))) return;
  deps.auth.unlock(name);
  await deps.audit({ event: 'unlocked', who: name, result: 'ok', code: 'passwd --unlock' });
}
