/**
 * The ids of fleet commands already accepted, kept across restarts, so a command captured on the wire
 * (or redelivered by the broker) runs at most once. One append-only file: a header line
 * `{"v":1,"floor":S,"trusted":MS}` then one line `["id",exp,iat]` per accepted command, appended and
 * fsynced BEFORE the command runs (a power cut after that loses the command, never repeats it; a torn
 * last line is a command that never ran). Bounded: entries whose `exp` has passed by trusted time, and
 * past `capacity` the soonest-expiring ones, are dropped — and the `floor` rises to the latest `exp`
 * dropped, so every command with `exp <= floor` counts as seen whatever the clock says later. The file
 * is rewritten whole (temp, fsync, rename) when it holds twice `capacity` lines.
 *
 * Trusted time is the wall clock while that is trusted (NTP, an RTC); otherwise `max(wall clock,
 * trusted)`, where `trusted` is the latest `iat` accepted (a time the fleet signed, so it has passed):
 * a board that boots in 1970 still judges `exp` sensibly. Because a signed `iat` can be wrong (a
 * signer's clock a year ahead), `trusted` is never left more than the skew ahead of a trusted wall
 * clock: `clampTo` lowers it — and the `iat` of every entry, so reloading does not raise it again, and
 * the floor to the highest `exp` a command issued by then could have — and persists that. `resetTo`
 * is the signed way back for a board with no trusted clock (`fleet.reset-time`, trusted-time.ts).
 * Entries keep their own `exp`, so a command from the future stays `replayed` until it expires.
 */
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, readIfExists, writeDurable } from '../core/durable-file.js';

export type ReplayVerdict = 'fresh' | 'replayed' | 'below-floor';

export class ReplayCache {
  readonly #file: string;
  readonly #capacity: number;
  readonly #entries = new Map<string, { exp: number; iat: number }>();
  #floorS = 0;
  #trustedMs = 0;
  #lines = 0;
  #handle: FileHandle | undefined;

  private constructor(file: string, capacity: number) {
    this.#file = file;
    this.#capacity = capacity;
  }

  /** Loads (or creates) the cache file. */
  static async open(file: string, options: { capacity: number }): Promise<ReplayCache> {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new TypeError(`capacity must be a positive integer, got ${options.capacity}`);
    }
    const cache = new ReplayCache(file, options.capacity);
    await ensurePrivateDir(path.dirname(file));
    cache.#load((await readIfExists(file))?.toString('utf8') ?? '');
    await cache.#compact();
    return cache;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Every command with `exp` at or below this (POSIX s) counts as seen. */
  get floorS(): number {
    return this.#floorS;
  }

  /** The latest time (POSIX ms) a verified command proved has passed. */
  get trustedMs(): number {
    return this.#trustedMs;
  }

  /** Trusted time: the wall clock while it is trusted, else the later of `wallMs` and `trustedMs`. */
  nowMs(wallMs: number, wallTrusted: boolean): number {
    return wallTrusted ? wallMs : Math.max(wallMs, this.#trustedMs);
  }

  /**
   * Brings a trusted time (and entries, and the floor) from the future back to `ceilingMs` — a
   * trusted wall clock plus the skew — durably. Returns the trusted time it had, or undefined when
   * nothing was ahead. No legitimate command issued by `ceilingMs` expires after `ceiling + maxTtlS`,
   * so a floor above that can only come from a command from the future.
   */
  async clampTo(ceilingMs: number, maxTtlS: number): Promise<number | undefined> {
    const floorCapS = Math.floor(ceilingMs / 1000) + maxTtlS;
    if (this.#trustedMs <= ceilingMs && this.#floorS <= floorCapS) return undefined;
    const before = this.#trustedMs;
    this.#rebase(Math.min(this.#trustedMs, ceilingMs), floorCapS);
    await this.#compact();
    return before;
  }

  /**
   * Sets trusted time to `iatS` (that of a verified `fleet.reset-time`) and records its id, in one
   * durable rewrite. The floor comes down to what a command issued by then (within the skew) could
   * expire at; entries keep their `exp`, so their ids stay refused.
   */
  async resetTo(id: string, expS: number, iatS: number, skewMs: number, maxTtlS: number): Promise<void> {
    if (this.#entries.has(id)) throw new TypeError(`command ${id} is not fresh`);
    this.#rebase(iatS * 1000, iatS + Math.ceil(skewMs / 1000) + maxTtlS);
    this.#entries.set(id, { exp: expS, iat: iatS });
    await this.#compact();
  }

  #rebase(trustedMs: number, floorCapS: number): void {
    this.#trustedMs = trustedMs;
    const iatCapS = Math.floor(trustedMs / 1000);
    for (const e of this.#entries.values()) e.iat = Math.min(e.iat, iatCapS);
    this.#floorS = Math.min(this.#floorS, floorCapS);
  }

  check(id: string, expS: number): ReplayVerdict {
    if (this.#entries.has(id)) return 'replayed';
    if (expS <= this.#floorS) return 'below-floor';
    return 'fresh';
  }

  /** Records an accepted command durably. Call one at a time, and before running the command. */
  async remember(id: string, expS: number, iatS: number, nowMs: number, skewMs: number): Promise<void> {
    if (this.check(id, expS) !== 'fresh') throw new TypeError(`command ${id} is not fresh`);
    if (!this.#handle) this.#handle = await open(this.#file, 'a', 0o600);
    await this.#handle.write(`${JSON.stringify([id, expS, iatS])}\n`);
    await this.#handle.datasync();
    // Only once it is on disk: a failed write leaves the id fresh (the command did not run).
    this.#entries.set(id, { exp: expS, iat: iatS });
    this.#trustedMs = Math.max(this.#trustedMs, iatS * 1000);
    this.#lines++;
    this.#prune(nowMs, skewMs);
    if (this.#lines >= 2 * this.#capacity) await this.#compact();
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }

  /** Drops expired entries, then the soonest-expiring past capacity, raising the floor over them. */
  #prune(nowMs: number, skewMs: number): void {
    for (const [id, e] of this.#entries) {
      if (e.exp * 1000 + skewMs <= nowMs) this.#drop(id, e.exp);
    }
    if (this.#entries.size <= this.#capacity) return;
    const byExp = [...this.#entries].sort(([, a], [, b]) => a.exp - b.exp);
    for (const [id, e] of byExp.slice(0, this.#entries.size - this.#capacity)) this.#drop(id, e.exp);
  }

  #drop(id: string, exp: number): void {
    this.#entries.delete(id);
    this.#floorS = Math.max(this.#floorS, exp);
  }

  #load(text: string): void {
    // The piece after the last newline is '' or a torn append (a command that never ran).
    const complete = text.split('\n').slice(0, -1);
    let damaged = false;
    complete.forEach((line, i) => {
      try {
        const v: unknown = JSON.parse(line);
        if (i === 0 && isHeader(v)) {
          this.#floorS = v.floor;
          this.#trustedMs = v.trusted;
        } else if (isEntry(v)) {
          this.#entries.set(v[0], { exp: v[1], iat: v[2] });
          this.#trustedMs = Math.max(this.#trustedMs, v[2] * 1000);
        } else {
          damaged = true;
        }
      } catch {
        damaged = true;
      }
    });
    if (damaged) {
      // A line we cannot read may have been any command: count everything up to the latest exp we know as seen.
      for (const e of this.#entries.values()) this.#floorS = Math.max(this.#floorS, e.exp);
    }
  }

  async #compact(): Promise<void> {
    const header = JSON.stringify({ v: 1, floor: this.#floorS, trusted: this.#trustedMs });
    const body = [...this.#entries].map(([id, e]) => `${JSON.stringify([id, e.exp, e.iat])}\n`).join('');
    await this.#handle?.close();
    this.#handle = undefined;
    await writeDurable(this.#file, `${header}\n${body}`, { mode: 0o600 });
    this.#lines = this.#entries.size;
  }
}

function isHeader(v: unknown): v is { v: 1; floor: number; trusted: number } {
  const o = v as { v?: unknown; floor?: unknown; trusted?: unknown };
  return typeof v === 'object' && v !== null && o.v === 1 && isUint(o.floor) && isUint(o.trusted);
}

function isEntry(v: unknown): v is [string, number, number] {
  return Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && isUint(v[1]) && isUint(v[2]);
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
