/**
 * Console logins: users and their scrypt hashes from the configuration, and a guard against guessing.
 * Each failed attempt for a name doubles the pause before the next prompt (`slowdownMs`, 2×, 4×, … up
 * to `maxSlowdownMs`); after `maxFailures` in a row the name is locked for `lockoutMs`, then gets a
 * fresh count. A success clears the count. Counting is per login name, shared by every console
 * (serial, socket, stdio), so switching transports does not reset it; an unknown name is counted like
 * a known one and costs the same scrypt time, so neither timing nor messages tell which names exist.
 */
import type { Clock } from '../core/clock.js';
import { DEFAULT_SCRYPT, hashPassword, verifyPassword } from './password-hash.js';

export interface ConsoleUser {
  readonly name: string;
  /** `$scrypt$…` PHC string (`edge-agent passwd` makes one). */
  readonly passwordHash: string;
}

export interface LoginPolicy {
  readonly maxFailures: number;
  readonly slowdownMs: number;
  readonly maxSlowdownMs: number;
  readonly lockoutMs: number;
}

export type LoginOutcome =
  | { readonly ok: true; readonly user: string }
  | { readonly ok: false; readonly reason: 'locked'; readonly retryAfterMs: number }
  | {
      readonly ok: false;
      readonly reason: 'bad-credentials';
      /** Pause before the next prompt. */
      readonly delayMs: number;
      readonly failures: number;
      /** This failure locked the name for `lockedForMs`. */
      readonly locked: boolean;
      readonly lockedForMs: number;
    };

interface Failures {
  failures: number;
  lockedUntilMs: number;
}

/** Bounds memory against a flood of invented names. */
const MAX_TRACKED = 1000;

export class Authenticator {
  readonly #clock: Clock;
  readonly #users: Map<string, string>;
  readonly #policy: LoginPolicy;
  readonly #records = new Map<string, Failures>();
  #dummyHash: Promise<string> | undefined;

  constructor(deps: { clock: Clock }, users: readonly ConsoleUser[], policy: LoginPolicy) {
    if (!(policy.maxFailures >= 1))
      throw new TypeError(`maxFailures must be >= 1, got ${policy.maxFailures}`);
    this.#clock = deps.clock;
    this.#users = new Map(users.map((u) => [u.name, u.passwordHash]));
    this.#policy = policy;
  }

  get hasUsers(): boolean {
    return this.#users.size > 0;
  }

  /** Whether `name` may try now; `retryAfterMs` while locked. */
  check(name: string): { allowed: true } | { allowed: false; retryAfterMs: number } {
    const record = this.#records.get(name);
    const now = this.#clock.monotonicMs();
    if (record && record.lockedUntilMs > now)
      return { allowed: false, retryAfterMs: record.lockedUntilMs - now };
    return { allowed: true };
  }

  async login(name: string, password: string): Promise<LoginOutcome> {
    const check = this.check(name);
    if (!check.allowed) return { ok: false, reason: 'locked', retryAfterMs: check.retryAfterMs };
    const hash = this.#users.get(name);
    const matches = hash
      ? await verifyPassword(hash, password)
      : (await verifyPassword(await this.#dummy(), password)) && false;
    if (matches) {
      this.#records.delete(name);
      return { ok: true, user: name };
    }
    return this.#fail(name);
  }

  #fail(name: string): LoginOutcome {
    const now = this.#clock.monotonicMs();
    let record = this.#records.get(name);
    if (!record || record.lockedUntilMs > 0) {
      // A lock that has run out starts a fresh count.
      record = { failures: 0, lockedUntilMs: 0 };
    }
    this.#records.delete(name);
    this.#records.set(name, record);
    if (this.#records.size > MAX_TRACKED) this.#records.delete(this.#records.keys().next().value!);
    record.failures++;
    const { maxFailures, slowdownMs, maxSlowdownMs, lockoutMs } = this.#policy;
    const failures = record.failures;
    const locked = failures >= maxFailures;
    if (locked) record.lockedUntilMs = now + lockoutMs;
    const delayMs = Math.min(maxSlowdownMs, slowdownMs * 2 ** (failures - 1));
    return {
      ok: false,
      reason: 'bad-credentials',
      delayMs,
      failures,
      locked,
      lockedForMs: locked ? lockoutMs : 0,
    };
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword('not a password of anyone', DEFAULT_SCRYPT);
    return this.#dummyHash;
  }
}
