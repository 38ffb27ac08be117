/**
 * Console logins: users and their scrypt hashes from the configuration, and a guard against guessing.
 * Each failed attempt for a name doubles the pause before the next prompt (`slowdownMs`, 2×, 4×, … up
 * to `maxSlowdownMs`); after `maxFailures` in a row the name is locked for `lockoutMs`, then gets a
 * fresh count. A success clears the count. Counting is per login name, shared by every console
 * (serial, socket, stdio), so switching transports does not reset it; an unknown name is counted like
 * a known one and costs the same scrypt time (its dummy hash has the first user's cost), so neither
 * timing nor messages tell which names exist.
 *
 * Against parallel guessing: an attempt is counted *before* its password is checked, and only one
 * check per name runs at a time (the others wait their turn, then see the count, or the lock, that
 * the earlier ones left). Against eviction: the records of configured users are never dropped (there
 * are as many as users); names nobody has are kept in a bounded table, oldest dropped first, so a
 * flood of invented names costs bounded memory and cannot push a real user's lock out. Against
 * reconnecting: `reserve(peer)` paces attempts per peer (`PeerThrottle`), whatever the session.
 */
import type { Clock } from '../core/clock.js';
import { DEFAULT_SCRYPT, hashPassword, scryptParamsOf, verifyPassword } from './password-hash.js';
import { PeerThrottle, type PeerTurn } from './peer-throttle.js';

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

/** Bounds memory against a flood of invented names (configured users are not counted here). */
export const MAX_TRACKED_UNKNOWN_NAMES = 1000;

export class Authenticator {
  readonly #clock: Clock;
  readonly #users: Map<string, string>;
  readonly #policy: LoginPolicy;
  /** Configured users' records: never evicted. */
  readonly #known = new Map<string, Failures>();
  /** Records of names nobody has, oldest first. */
  readonly #unknown = new Map<string, Failures>();
  /** The check running for each name; the next one waits for it. */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  readonly #peers: PeerThrottle;
  #dummyHash: Promise<string> | undefined;

  constructor(deps: { clock: Clock }, users: readonly ConsoleUser[], policy: LoginPolicy) {
    if (!(policy.maxFailures >= 1))
      throw new TypeError(`maxFailures must be >= 1, got ${policy.maxFailures}`);
    this.#clock = deps.clock;
    this.#users = new Map(users.map((u) => [u.name, u.passwordHash]));
    this.#policy = policy;
    this.#peers = new PeerThrottle(deps, {
      slowdownMs: policy.slowdownMs,
      maxSlowdownMs: policy.maxSlowdownMs,
      forgetAfterMs: Math.max(policy.lockoutMs, policy.maxSlowdownMs),
    });
  }

  get hasUsers(): boolean {
    return this.#users.size > 0;
  }

  /**
   * Counts a login attempt from `peer` (a transport: `socket`, `serial:/dev/ttyGS0`, `stdio`) as it
   * starts; returns how long the attempt must wait first, or that it is refused (its turn would be
   * more than `maxSlowdownMs` away; not counted). Every attempt let through counts, failed or not.
   */
  reserve(peer: string): PeerTurn {
    return this.#peers.reserve(peer);
  }

  /** Whether `name` may try now; `retryAfterMs` while locked. */
  check(name: string): { allowed: true } | { allowed: false; retryAfterMs: number } {
    const record = this.#records(name).get(name);
    const now = this.#clock.monotonicMs();
    if (record && record.lockedUntilMs > now)
      return { allowed: false, retryAfterMs: record.lockedUntilMs - now };
    return { allowed: true };
  }

  /** Lifts a lock and forgets the failures of `name` (an administrator's decision); whether it was locked. */
  unlock(name: string): boolean {
    const record = this.#records(name).get(name);
    this.#records(name).delete(name);
    return record !== undefined && record.lockedUntilMs > this.#clock.monotonicMs();
  }

  /** Checks a password; `peer` (as given to `reserve`) has its pace cleared by a success. */
  login(name: string, password: string, peer?: string): Promise<LoginOutcome> {
    const before = this.#inFlight.get(name) ?? Promise.resolve();
    const outcome = before.then(() => this.#verify(name, password, peer));
    const settled = outcome.catch(() => undefined);
    this.#inFlight.set(name, settled);
    void settled.then(() => {
      if (this.#inFlight.get(name) === settled) this.#inFlight.delete(name);
    });
    return outcome;
  }

  async #verify(name: string, password: string, peer: string | undefined): Promise<LoginOutcome> {
    const check = this.check(name);
    if (!check.allowed) return { ok: false, reason: 'locked', retryAfterMs: check.retryAfterMs };
    // Counted before the check, so that a crash or a slow scrypt never lets an attempt go uncounted.
    const failed = this.#fail(name);
    const hash = this.#users.get(name);
    const matches = hash
      ? await verifyPassword(hash, password)
      : (await verifyPassword(await this.#dummy(), password)) && false;
    if (!matches) return failed;
    this.#known.delete(name);
    if (peer !== undefined) this.#peers.succeeded(peer);
    return { ok: true, user: name };
  }

  #records(name: string): Map<string, Failures> {
    return this.#users.has(name) ? this.#known : this.#unknown;
  }

  #fail(name: string): LoginOutcome {
    const now = this.#clock.monotonicMs();
    const records = this.#records(name);
    let record = records.get(name);
    if (!record || record.lockedUntilMs > 0) {
      // A lock that has run out starts a fresh count.
      record = { failures: 0, lockedUntilMs: 0 };
    }
    records.delete(name);
    records.set(name, record);
    if (this.#unknown.size > MAX_TRACKED_UNKNOWN_NAMES)
      this.#unknown.delete(this.#unknown.keys().next().value!);
    record.failures++;
    const { maxFailures, slowdownMs, maxSlowdownMs, lockoutMs } = this.#policy;
    const failures = record.failures;
    const locked = failures >= maxFailures;
    if (locked) record.lockedUntilMs = now + lockoutMs;
    const delayMs = Math.min(maxSlowdownMs, slowdownMs * 2 ** Math.min(30, failures - 1));
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
    const [first] = this.#users.values();
    const params = (first !== undefined && scryptParamsOf(first)) || DEFAULT_SCRYPT;
    this.#dummyHash ??= hashPassword('not a password of anyone', params);
    return this.#dummyHash;
  }
}
