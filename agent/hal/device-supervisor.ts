/**
 * Keeps one device useful without anyone near it. Opens it (retrying with backoff while it is absent),
 * polls it on a fixed period, maps its channels to points, and counts consecutive failures: after
 * `faultAfter` in a row (or at once when the driver says the device is lost) its points go `fault`, its
 * outputs are put in their safe state, it is closed, and reopened with backoff until it answers again.
 * A device that never comes back costs a timer, never the agent.
 */
import { Backoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PointTable, PointValue } from '../core/points.js';
import type { Device, DeviceContext } from './device.js';

export type DeviceState = 'idle' | 'opening' | 'running' | 'stopped';

export interface DeviceSupervisorDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly points: PointTable;
}

export interface DeviceSupervisorOptions {
  /** Device id from the board profile; also the `source` of its point updates. */
  readonly id: string;
  readonly device: Device;
  /** Channel → point name. Channels missing here are named `<id>.<channel>`. */
  readonly pointNames?: Readonly<Record<string, string>>;
  /** Poll period for devices with `poll()`. */
  readonly pollMs?: number;
  /** Consecutive failures before the points go `fault` and the device is reopened. */
  readonly faultAfter?: number;
  readonly reopenBaseMs?: number;
  readonly reopenMaxMs?: number;
}

export interface DeviceStatus {
  readonly id: string;
  readonly state: DeviceState;
  readonly faulted: boolean;
  readonly consecutiveFailures: number;
  readonly totalFailures: number;
  readonly opens: number;
  readonly lastError: string | undefined;
}

export class DeviceSupervisor {
  readonly id: string;
  readonly #deps: DeviceSupervisorDeps;
  readonly #log: Logger;
  readonly #device: Device;
  readonly #pointOf: (channel: string) => string;
  readonly #pollMs: number;
  readonly #faultAfter: number;
  readonly #backoff: Backoff;
  #state: DeviceState = 'idle';
  #faulted = false;
  #consecutiveFailures = 0;
  #totalFailures = 0;
  #opens = 0;
  #lastError: string | undefined;
  #session: AbortController | undefined;
  #pollTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #polling: Promise<void> | undefined;
  #cycle: Promise<void> = Promise.resolve();
  readonly #unregister: (() => void)[] = [];

  constructor(deps: DeviceSupervisorDeps, options: DeviceSupervisorOptions) {
    this.#deps = deps;
    this.id = options.id;
    this.#log = deps.log.child({ device: options.id });
    this.#device = options.device;
    const names = options.pointNames ?? {};
    this.#pointOf = (channel) => names[channel] ?? `${options.id}.${channel}`;
    this.#pollMs = options.pollMs ?? 1000;
    this.#faultAfter = options.faultAfter ?? 3;
    this.#backoff = new Backoff({
      baseMs: options.reopenBaseMs ?? 500,
      maxMs: options.reopenMaxMs ?? 30_000,
    });
    if (!(this.#pollMs > 0)) throw new TypeError(`pollMs must be > 0, got ${this.#pollMs}`);
    if (!(this.#faultAfter >= 1)) throw new TypeError(`faultAfter must be >= 1, got ${this.#faultAfter}`);
  }

  /** The point names this device produces, so configuration can be checked before start. */
  pointNames(): string[] {
    return this.#device.channels.map((c) => this.#pointOf(c.channel));
  }

  /** Declares the device's points in the table. Called once by the composition root. */
  declarePoints(): void {
    for (const c of this.#device.channels) {
      this.#deps.points.declare({
        name: this.#pointOf(c.channel),
        unit: c.unit,
        writable: c.writable ?? false,
        staleAfterMs: c.staleAfterMs ?? (this.#device.poll ? this.#pollMs * 3 : 0),
      });
    }
  }

  status(): DeviceStatus {
    return {
      id: this.id,
      state: this.#state,
      faulted: this.#faulted,
      consecutiveFailures: this.#consecutiveFailures,
      totalFailures: this.#totalFailures,
      opens: this.#opens,
      lastError: this.#lastError,
    };
  }

  start(): void {
    if (this.#state !== 'idle') throw new Error(`device ${this.id} already started`);
    for (const c of this.#device.channels) {
      if (!c.writable) continue;
      const point = this.#pointOf(c.channel);
      this.#unregister.push(this.#deps.points.onWrite(point, (value) => this.#write(c.channel, value)));
    }
    this.#state = 'opening';
    this.#scheduleOpen(0);
  }

  /** Puts outputs in their safe state and closes the device. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#retryTimer?.cancel();
    this.#pollTimer?.cancel();
    this.#session?.abort(new Error('device stopping'));
    for (const u of this.#unregister.splice(0)) u();
    await this.#cycle.catch(() => undefined);
    await this.#polling?.catch(() => undefined);
    await this.#safeAndClose();
  }

  async #write(channel: string, value: PointValue): Promise<void> {
    if (this.#state !== 'running' || !this.#device.write) {
      throw new Error(`device ${this.id} is not connected; write to ${channel} refused`);
    }
    await this.#device.write(channel, value);
  }

  #scheduleOpen(delayMs: number): void {
    if (this.#state === 'stopped') return;
    this.#retryTimer = this.#deps.clock.setTimeout(() => {
      this.#cycle = this.#open();
    }, delayMs);
  }

  async #open(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'opening';
    const session = new AbortController();
    this.#session = session;
    try {
      await this.#device.open(this.#context(session));
    } catch (error) {
      await this.#device.close().catch(() => undefined);
      if (this.#stopped()) return;
      this.#noteError(error);
      this.#markFault();
      const delayMs = this.#backoff.next();
      this.#log.warn(
        {
          device: this.id,
          err: errorMessage(error),
          retryInMs: Math.round(delayMs),
          attempt: this.#backoff.attempt,
        },
        'device open failed',
      );
      this.#scheduleOpen(delayMs);
      return;
    }
    if (this.#stopped() || session.signal.aborted) return;
    this.#opens++;
    this.#state = 'running';
    this.#backoff.reset();
    this.#consecutiveFailures = 0;
    this.#log.info({ opens: this.#opens }, this.#opens > 1 ? 'device reopened' : 'device open');
    if (this.#device.poll) {
      this.#pollOnce();
      this.#pollTimer = this.#deps.clock.setInterval(() => this.#pollOnce(), this.#pollMs);
    }
  }

  #pollOnce(): void {
    if (this.#polling || this.#state !== 'running') return; // a slow bus: skip rather than pile up
    const session = this.#session;
    this.#polling = this.#device
      .poll?.()
      .catch((error: unknown) => {
        if (session === this.#session)
          this.#failure(error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        this.#polling = undefined;
      });
  }

  #context(session: AbortController): DeviceContext {
    const live = () => session === this.#session && !session.signal.aborted && this.#state !== 'stopped';
    return {
      clock: this.#deps.clock,
      log: this.#log,
      signal: session.signal,
      publish: (channel, value) => {
        if (!live()) return;
        if (this.#faulted) this.#log.info('device recovered');
        this.#faulted = false;
        this.#consecutiveFailures = 0;
        this.#deps.points.update(this.#pointOf(channel), value, this.id);
      },
      fail: (error) => {
        if (live()) this.#failure(error);
      },
      lost: (error) => {
        if (!live()) return;
        this.#noteError(error);
        this.#log.warn({ err: error.message }, 'device lost');
        this.#restart();
      },
    };
  }

  #failure(error: Error): void {
    this.#noteError(error);
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures === 1) {
      this.#log.warn({ err: error.message }, 'device transaction failed');
    }
    if (this.#consecutiveFailures >= this.#faultAfter) {
      this.#log.error(
        { err: error.message, failures: this.#consecutiveFailures },
        'device faulted; reopening',
      );
      this.#restart();
    }
  }

  #restart(): void {
    this.#markFault();
    this.#pollTimer?.cancel();
    this.#session?.abort(new Error('device restarting'));
    this.#state = 'opening';
    this.#cycle = this.#safeAndClose().then(() => this.#scheduleOpen(this.#backoff.next()));
  }

  /** Read through a method: `stop()` may change the state while an `await` is pending. */
  #stopped(): boolean {
    return this.#state === 'stopped';
  }

  #markFault(): void {
    this.#faulted = true;
    for (const c of this.#device.channels) this.#deps.points.setQuality(this.#pointOf(c.channel), 'fault');
  }

  #noteError(error: unknown): void {
    this.#totalFailures++;
    this.#lastError = errorMessage(error);
  }

  async #safeAndClose(): Promise<void> {
    try {
      await this.#device.safeState?.();
    } catch (error) {
      this.#log.error({ err: errorMessage(error) }, 'device safe state failed');
    }
    await this.#device.close().catch((error: unknown) => {
      this.#log.warn({ err: errorMessage(error) }, 'device close failed');
    });
  }
}
