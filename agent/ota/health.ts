/**
 * Health checks that decide whether a trial boot is committed: the agent is up, its loops run, the
 * configured points are `good`, the link's server is reachable, and an optional board script exits 0.
 * Each check is polled until all pass at once — and, with a soak, have kept passing that long — or the
 * deadline passes; the verdict names every check still failing. The OTA layer never imports the control or HAL layers: build-agent.ts passes closures.
 */
import { connect } from 'node:net';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { type RunCommand, runCommand } from './run-command.js';

export type HealthResult = { readonly ok: true } | { readonly ok: false; readonly detail: string };

export interface HealthCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<HealthResult>;
}

export type HealthVerdict =
  | { readonly ok: true; readonly checks: readonly string[] }
  | { readonly ok: false; readonly failed: readonly { name: string; detail: string }[] };

export class HealthMonitor {
  readonly #clock: Clock;
  readonly #checks: readonly HealthCheck[];
  readonly #deadlineMs: number;
  readonly #pollMs: number;

  readonly #soakMs: number;

  constructor(deps: {
    clock: Clock;
    checks: readonly HealthCheck[];
    deadlineMs: number;
    pollMs?: number;
    /** The checks must keep passing this long, every poll, before the trial counts as healthy. */
    soakMs?: number;
  }) {
    this.#clock = deps.clock;
    this.#checks = deps.checks;
    this.#deadlineMs = deps.deadlineMs;
    this.#pollMs = deps.pollMs ?? 500;
    this.#soakMs = deps.soakMs ?? 0;
  }

  get checkNames(): string[] {
    return this.#checks.map((c) => c.name);
  }

  /**
   * Polls every check until all pass together and have kept passing for `soakMs` (ok), or the deadline
   * passes (the last failures; `soak` if they passed but not for long enough).
   */
  async run(signal: AbortSignal, override?: () => HealthVerdict | undefined): Promise<HealthVerdict> {
    const deadline = this.#clock.monotonicMs() + this.#deadlineMs;
    let healthySince: number | undefined;
    for (;;) {
      const forced = override?.();
      if (forced) return forced;
      const results = await Promise.all(
        this.#checks.map(async (c) => {
          try {
            return { name: c.name, result: await c.check(signal) };
          } catch (e) {
            return { name: c.name, result: { ok: false, detail: errorMessage(e) } as HealthResult };
          }
        }),
      );
      const failed = results.flatMap(({ name, result }) =>
        result.ok ? [] : [{ name, detail: result.detail }],
      );
      const now = this.#clock.monotonicMs();
      healthySince = failed.length === 0 ? (healthySince ?? now) : undefined;
      if (healthySince !== undefined && now - healthySince >= this.#soakMs)
        return { ok: true, checks: this.checkNames };
      if (now >= deadline) {
        const soaked = healthySince === undefined ? 0 : now - healthySince;
        return {
          ok: false,
          failed:
            failed.length > 0
              ? failed
              : [{ name: 'soak', detail: `healthy for ${soaked} ms of ${this.#soakMs}` }],
        };
      }
      await this.#clock.sleep(Math.min(this.#pollMs, deadline - this.#clock.monotonicMs()), signal);
    }
  }
}

/** Points that must be `good` (a sensor read correctly since boot). */
export function pointsGoodCheck(
  names: readonly string[],
  qualityOf: (name: string) => string | undefined,
): HealthCheck {
  return {
    name: 'points',
    async check() {
      const bad = names.filter((n) => qualityOf(n) !== 'good');
      return bad.length === 0
        ? { ok: true }
        : { ok: false, detail: bad.map((n) => `${n} is ${qualityOf(n) ?? 'missing'}`).join(', ') };
    },
  };
}

/** A condition the composition root can evaluate (the agent started, its loops run). */
export function predicateCheck(name: string, test: () => boolean | string): HealthCheck {
  return {
    name,
    async check() {
      const r = test();
      return r === true
        ? { ok: true }
        : { ok: false, detail: typeof r === 'string' ? r : `${name} is not ok` };
    },
  };
}

/** A TCP connection to the fleet's server (the MQTT broker) can be opened. */
export function tcpReachableCheck(target: { host: string; port: number; timeoutMs?: number }): HealthCheck {
  return {
    name: 'link',
    check: (signal) =>
      new Promise((resolve) => {
        const socket = connect({ host: target.host, port: target.port, signal });
        const done = (r: HealthResult) => {
          socket.destroy();
          resolve(r);
        };
        socket.setTimeout(target.timeoutMs ?? 3000, () =>
          done({ ok: false, detail: `${target.host}:${target.port} timed out` }),
        );
        socket.once('connect', () => done({ ok: true }));
        socket.once('error', (e) =>
          done({ ok: false, detail: `${target.host}:${target.port}: ${e.message}` }),
        );
      }),
  };
}

/** A board-specific script: healthy when it exits 0 (its last output line is the detail otherwise). */
export function commandCheck(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  run: RunCommand = runCommand,
): HealthCheck {
  return {
    name: 'command',
    async check(signal) {
      const out = await run(argv, { env, signal, timeoutMs: 30_000 });
      if (out.code === 0) return { ok: true };
      const last = (out.stderr || out.stdout).trim().split('\n').slice(-1)[0] ?? '';
      return { ok: false, detail: `${argv.join(' ')} exited with ${out.code}${last ? `: ${last}` : ''}` };
    },
  };
}
