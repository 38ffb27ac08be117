/**
 * The systemd watchdog, fed only while the agent is actually working: every half `WATCHDOG_USEC` the
 * health probes are asked, and `WATCHDOG=1` is sent only if all of them pass. A blocked event loop
 * sends nothing because this timer cannot fire; a stalled control scheduler or an event loop that is
 * running but lagging fails a probe. Either way systemd stops hearing from us, kills the agent after
 * `WatchdogSec` and restarts it (`Restart=on-failure`) — with actuators going to their safe state on
 * the way down, or, if the process is wedged beyond that, by the kernel reclaiming it.
 * A change of health is logged and shown in `systemctl status` through `STATUS=`.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { SystemdNotifier } from './notify.js';

export interface HealthProbe {
  readonly name: string;
  /** Undefined when healthy, else why not (one line). */
  check(): string | undefined;
}

export interface ServiceWatchdogDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly notifier: SystemdNotifier;
  readonly probes: readonly HealthProbe[];
}

export class ServiceWatchdog {
  readonly #deps: ServiceWatchdogDeps;
  readonly #intervalMs: number;
  #timer: TimerHandle | undefined;
  #unhealthy: string | undefined;

  constructor(deps: ServiceWatchdogDeps, options: { intervalMs: number }) {
    if (!(options.intervalMs > 0)) throw new TypeError(`intervalMs must be > 0, got ${options.intervalMs}`);
    this.#deps = deps;
    this.#intervalMs = options.intervalMs;
  }

  /** Whether the last check failed, and why. */
  get unhealthy(): string | undefined {
    return this.#unhealthy;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = this.#deps.clock.setInterval(() => this.tick(), this.#intervalMs);
    this.tick();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** One check: a keep-alive if healthy. */
  tick(): void {
    const { probes, notifier, log } = this.#deps;
    const reasons = probes.flatMap((p) => {
      const reason = p.check();
      return reason ? [`${p.name}: ${reason}`] : [];
    });
    const unhealthy = reasons.length > 0 ? reasons.join('; ') : undefined;
    const recovered = !unhealthy && this.#unhealthy !== undefined;
    if (unhealthy && unhealthy !== this.#unhealthy) {
      log.error({ reason: unhealthy }, 'unhealthy: withholding the systemd watchdog keep-alive');
      void notifier.status(`unhealthy: ${unhealthy}`);
    }
    if (recovered) log.info('healthy again: systemd watchdog keep-alive resumed');
    this.#unhealthy = unhealthy;
    if (!unhealthy) void notifier.watchdog(recovered ? 'running' : undefined);
  }
}
