/**
 * When the wall clock can be believed (time without an RTC). A Raspberry Pi boots with a clock that is
 * wrong until NTP syncs; readings taken before that are stored with their monotonic time and boot id
 * (stored-batch.ts) and corrected once the clock is good: within one boot, `wall = monotonic + offset`
 * where the offset is measured when trust arrives and persisted per boot, so even a later process can
 * correct them. Readings whose boot never saw a trusted clock cannot be corrected: they are sent
 * flagged (senml-pack.ts), never silently wrong.
 *
 * Trust rule (mode `ntp`): trusted when `isWallClockTrusted()` says so (an injected seam; on Linux
 * `timedatectl show -p NTPSynchronized`), or when at start the clock is already later than the last
 * time this agent persisted while trusted — a clock that moved forward past known-good time is
 * believed (a board with an RTC, or a restart of the agent), one that was restored to an old saved
 * time (fake-hwclock) is not. Mode `system` believes the clock always (laptops, boards with an RTC).
 */
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { access } from 'node:fs/promises';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { MetaLevel } from './store.js';

export type IsWallClockTrusted = () => Promise<boolean>;
export type TimeTrustMode = 'ntp' | 'system';

const LAST_TRUSTED_KEY = 'lastTrustedWallMs';
const offsetKey = (bootId: string) => `offset/${bootId}`;

/**
 * Linux: NTP synchronisation as systemd reports it (`timedatectl show -p NTPSynchronized --value`),
 * else the flag file systemd-timesyncd touches once synced. False when neither is available.
 */
export function linuxNtpSynchronized(
  run: typeof execFile = execFile,
  exists: (path: string) => Promise<void> = access,
): IsWallClockTrusted {
  return () =>
    new Promise<boolean>((resolve) => {
      run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 2000 }, (error, stdout) => {
        if (!error) {
          resolve(String(stdout).trim() === 'yes');
          return;
        }
        exists('/run/systemd/timesync/synchronized').then(
          () => resolve(true),
          () => resolve(false),
        );
      });
    });
}

export interface WallClockDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly meta: MetaLevel;
  readonly isWallClockTrusted: IsWallClockTrusted;
}

export interface WallClockOptions {
  readonly mode: TimeTrustMode;
  /** How often to ask `isWallClockTrusted` while untrusted. */
  readonly pollMs: number;
  /** How often to persist "the clock was good at this time" while trusted. */
  readonly persistEveryMs: number;
}

export interface WallClockEvents {
  trusted: [{ readonly offsetMs: number }];
}

export class WallClock extends EventEmitter<WallClockEvents> {
  readonly #deps: WallClockDeps;
  readonly #opts: WallClockOptions;
  #bootId = '';
  #trusted = false;
  #offsets = new Map<string, number>();
  #timer: TimerHandle | undefined;
  #polling = false;
  #stopped = false;

  constructor(deps: WallClockDeps, options: WallClockOptions) {
    super();
    this.#deps = deps;
    this.#opts = options;
  }

  get trusted(): boolean {
    return this.#trusted;
  }

  /** Loads persisted offsets of earlier boots and decides whether the clock is trusted now. */
  async start(bootId: string): Promise<void> {
    this.#bootId = bootId;
    this.#stopped = false;
    for await (const [key, value] of this.#deps.meta.iterator({ gte: 'offset/', lt: 'offset0' })) {
      if (typeof value === 'number' && Number.isFinite(value)) this.#offsets.set(key.slice(7), value);
    }
    const last = await this.#deps.meta.get(LAST_TRUSTED_KEY);
    const lastTrustedWallMs = typeof last === 'number' ? last : undefined;
    if (this.#opts.mode === 'system' || (await this.#ask())) {
      await this.#becomeTrusted('synchronized');
    } else if (lastTrustedWallMs !== undefined && this.#deps.clock.nowMs() > lastTrustedWallMs) {
      await this.#becomeTrusted('later than the last trusted time');
    } else {
      this.#deps.log.warn(
        { lastTrustedWallMs, wallMs: this.#deps.clock.nowMs() },
        'wall clock not trusted yet: readings keep monotonic time until it is',
      );
    }
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#trusted) await this.#persistLastTrusted().catch(() => undefined);
  }

  /**
   * The wall − monotonic offset that corrects untrusted times of `bootId`, if that boot ever had a
   * trusted clock (this one now, or a persisted earlier one).
   */
  offsetFor(bootId: string): number | undefined {
    return this.#offsets.get(bootId);
  }

  /** Forgets persisted offsets of boots that no longer have data (the outbox calls it after open). */
  async prune(keep: ReadonlySet<string>): Promise<void> {
    for (const bootId of [...this.#offsets.keys()]) {
      if (bootId === this.#bootId || keep.has(bootId)) continue;
      this.#offsets.delete(bootId);
      await this.#deps.meta.del(offsetKey(bootId));
    }
  }

  #arm(): void {
    if (this.#stopped) return;
    const periodMs = this.#trusted ? this.#opts.persistEveryMs : this.#opts.pollMs;
    this.#timer = this.#deps.clock.setTimeout(() => void this.#tick(), periodMs);
  }

  async #tick(): Promise<void> {
    if (this.#polling || this.#stopped) return;
    this.#polling = true;
    try {
      if (this.#trusted) await this.#persistLastTrusted();
      else if (await this.#ask()) await this.#becomeTrusted('synchronized');
    } catch (error) {
      this.#deps.log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'wall clock check failed',
      );
    } finally {
      this.#polling = false;
      this.#arm();
    }
  }

  async #ask(): Promise<boolean> {
    try {
      return await this.#deps.isWallClockTrusted();
    } catch {
      return false;
    }
  }

  async #becomeTrusted(why: string): Promise<void> {
    const { clock, meta, log } = this.#deps;
    const offsetMs = clock.nowMs() - clock.monotonicMs();
    this.#offsets.set(this.#bootId, offsetMs);
    this.#trusted = true;
    await meta.batch(
      [
        { type: 'put', key: offsetKey(this.#bootId), value: offsetMs },
        { type: 'put', key: LAST_TRUSTED_KEY, value: clock.nowMs() },
      ],
      { sync: true } as object,
    );
    log.info({ why, wallMs: clock.nowMs() }, 'wall clock trusted');
    this.emit('trusted', { offsetMs });
  }

  async #persistLastTrusted(): Promise<void> {
    await this.#deps.meta.put(LAST_TRUSTED_KEY, this.#deps.clock.nowMs());
  }
}
