/**
 * The pace of login attempts per *peer* — where logins come from: the Unix socket, a serial port, stdio
 * (the transport's name; Node gives no peer credentials on a Unix socket, so every socket client is one
 * peer). Each attempt is counted when it starts, before any password is checked, and gets the next
 * free slot: the first at once, each further one `slowdownMs`, 2×, 4×, … (up to `maxSlowdownMs`) after
 * the one before. So opening forty connections at once, or reconnecting after each failure, buys
 * nothing: the attempts still go through one at a time, further and further apart. An attempt whose
 * turn would come more than `maxSlowdownMs` away is refused and not counted, so attempts queue no
 * deeper than that: connections abandoned while waiting cannot push a peer's next turn ever further
 * out. A success from the peer clears its count; a peer that has made no attempt for `forgetAfterMs`
 * starts afresh.
 */
import type { Clock } from '../core/clock.js';

export interface PeerThrottlePolicy {
  readonly slowdownMs: number;
  readonly maxSlowdownMs: number;
  readonly forgetAfterMs: number;
}

/** An attempt's turn: wait `waitMs`, then go on; or refused, try again in `retryAfterMs`. */
export type PeerTurn =
  | { readonly allowed: true; readonly waitMs: number }
  | { readonly allowed: false; readonly retryAfterMs: number };

interface PeerRecord {
  attempts: number;
  /** When the next attempt may start (monotonic ms). */
  nextMs: number;
}

/** Peers are transports, a handful; the bound only guards against a caller that makes up names. */
const MAX_PEERS = 256;

export class PeerThrottle {
  readonly #clock: Clock;
  readonly #policy: PeerThrottlePolicy;
  readonly #peers = new Map<string, PeerRecord>();

  constructor(deps: { clock: Clock }, policy: PeerThrottlePolicy) {
    this.#clock = deps.clock;
    this.#policy = policy;
  }

  /** Counts an attempt from `peer` and gives its turn; a refused attempt is not counted. */
  reserve(peer: string): PeerTurn {
    const now = this.#clock.monotonicMs();
    const { slowdownMs, maxSlowdownMs, forgetAfterMs } = this.#policy;
    let record = this.#peers.get(peer);
    if (record && now - record.nextMs >= forgetAfterMs) record = undefined;
    record ??= { attempts: 0, nextMs: now };
    const startMs = Math.max(now, record.nextMs);
    if (startMs - now > maxSlowdownMs) return { allowed: false, retryAfterMs: startMs - now - maxSlowdownMs };
    record.attempts++;
    record.nextMs = startMs + Math.min(maxSlowdownMs, slowdownMs * 2 ** Math.min(30, record.attempts - 1));
    this.#peers.delete(peer);
    this.#peers.set(peer, record);
    if (this.#peers.size > MAX_PEERS) this.#peers.delete(this.#peers.keys().next().value!);
    return { allowed: true, waitMs: startMs - now };
  }

  /** A login from `peer` succeeded: its next attempt goes through at once. */
  succeeded(peer: string): void {
    this.#peers.delete(peer);
  }
}
