/**
 * The signed fleet command channel: COSE-signed commands arrive on `<prefix>/<id>/cmd`, every result
 * leaves signed by the device key on `<prefix>/<id>/cmd/result`. A command runs only if it passes
 * every check of fleet-command.ts and its id was never seen (replay-cache.ts, persisted before it runs);
 * it then runs through the same CommandRegistry as the console (`via: 'fleet'`, `who`: the signing
 * key's kid). A command the registry does not have never runs: it is `rejected` (`unknown-command`),
 * its id not spent. Commands run one at a time in arrival order; more than `maxQueued` waiting are
 * refused as `busy`. Every rejection is logged with its reason and reported back as a signed `rejected` result —
 * at most `rejectReportsPerMinute` of them, so a flood of garbage cannot make the device sign (or log)
 * without bound. A result that cannot be published (link down) is logged and dropped: the fleet asks
 * again with a new id, since the one it used is spent.
 *
 * Time: while the wall clock is trusted it is the time, and before each command the replay cache's
 * trusted time is lowered to at most the wall clock plus the skew — so one command signed with an
 * `iat` in the future (accepted while the clock was not trusted) cannot make every later command
 * `expired` for good. `fleet.reset-time` (trusted-time.ts), handled here rather than by the
 * registry, lets the fleet set it back on a device that has no trusted clock.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { signDeviceCose1 } from '../attest/device-cose.js';
import type { DeviceSigner } from '../attest/device-key.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import {
  authenticateFleetCommand,
  type CommandResultPayload,
  checkTimeWindow,
  encodeResult,
  type FleetCommand,
  type RejectCode,
} from './fleet-command.js';
import { ReplayCache } from './replay-cache.js';
import { parseResetTimeArgs, RESET_TIME_COMMAND } from './trusted-time.js';
import type { IncomingMessage, Link } from './types.js';

export interface CommandChannelDeps {
  readonly link: Pick<Link, 'deviceId' | 'topics' | 'subscribe' | 'publish'>;
  readonly registry: Pick<CommandRegistry, 'execute' | 'get'>;
  readonly signer: DeviceSigner;
  readonly clock: Clock;
  readonly log: Logger;
  /**
   * The fleet keys commands must be signed by, and how many. Asked per command (a loader caches), so a
   * root provisioned or rotated after start applies to the next command; a failure refuses the command.
   */
  trust(): Promise<{ readonly keys: readonly Uint8Array[]; readonly threshold: number }>;
  /** Whether the wall clock is believed now; default: always. */
  isClockTrusted?(): boolean;
}

export interface CommandChannelOptions {
  /** The replay cache file (`<stateDir>/fleet/replay.log`). */
  readonly replayFile: string;
  readonly replayCapacity: number;
  readonly skewMs: number;
  readonly maxTtlS: number;
  readonly maxCommandBytes: number;
  readonly maxQueued: number;
  readonly rejectReportsPerMinute: number;
}

export interface ChannelOutcome {
  readonly status: CommandResultPayload['status'];
  readonly code?: string | undefined;
  readonly reason?: string | undefined;
  readonly id?: string | undefined;
  readonly cmd?: string | undefined;
  /** The signed result as published (undefined when a rejection report was rate-limited). */
  readonly resultBytes?: Uint8Array | undefined;
}

export interface CommandChannelEvents {
  handled: [ChannelOutcome];
}

export class CommandChannel extends EventEmitter<CommandChannelEvents> {
  readonly #d: CommandChannelDeps;
  readonly #o: CommandChannelOptions;
  readonly #log: Logger;
  #cache: ReplayCache | undefined;
  #unsubscribe: (() => void) | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #reportTokens: number;
  #reportRefillMs: number;
  #suppressed = 0;
  readonly #counts = new Map<string, number>();

  constructor(deps: CommandChannelDeps, options: CommandChannelOptions) {
    super();
    this.#d = deps;
    this.#o = options;
    this.#log = deps.log.child({ mod: 'fleet' });
    this.#reportTokens = options.rejectReportsPerMinute;
    this.#reportRefillMs = deps.clock.monotonicMs();
  }

  /** Opens the replay cache and subscribes to the command topic. */
  async start(): Promise<void> {
    if (this.#cache) return;
    this.#cache = await ReplayCache.open(this.#o.replayFile, { capacity: this.#o.replayCapacity });
    this.#unsubscribe = this.#d.link.subscribe(
      this.#d.link.topics.cmd,
      (message: IncomingMessage) => {
        this.handle(message.payload).catch((error: unknown) =>
          this.#log.error({ err: errorMessage(error) }, 'fleet command handling failed'),
        );
      },
      { qos: 1 },
    );
    this.#log.info(
      { topic: this.#d.link.topics.cmd, replayCache: this.#cache.size, floorS: this.#cache.floorS },
      'fleet command channel ready',
    );
  }

  /** Unsubscribes, lets queued commands finish, closes the replay cache. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await this.#queue;
    await this.#cache?.close();
    this.#cache = undefined;
  }

  /** Counts of outcomes since start: `done`, `failed`, and one per rejection code. */
  stats(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  /** Handles one received command (what the subscription calls; tests and benchmarks call it directly). */
  handle(payload: Uint8Array): Promise<ChannelOutcome> {
    if (this.#queued >= this.#o.maxQueued) {
      return this.#reject({ code: 'busy', reason: `more than ${this.#o.maxQueued} commands waiting` });
    }
    this.#queued++;
    const run = this.#queue.then(() => this.#handleNow(payload));
    this.#queue = run.catch(() => undefined).finally(() => this.#queued--);
    return run;
  }

  async #handleNow(payload: Uint8Array): Promise<ChannelOutcome> {
    const cache = this.#cache;
    if (!cache) throw new TypeError('CommandChannel.handle called before start()');
    const { clock } = this.#d;
    let trust: Awaited<ReturnType<CommandChannelDeps['trust']>>;
    try {
      trust = await this.#d.trust();
    } catch (error) {
      return this.#reject({ code: 'unknown-key', reason: `no fleet trust root: ${errorMessage(error)}` });
    }
    const wallMs = clock.nowMs();
    const clockTrusted = this.#d.isClockTrusted?.() ?? true;
    if (clockTrusted) await this.#clampToWallClock(cache, wallMs);
    const nowMs = cache.nowMs(wallMs, clockTrusted);
    const window = { nowMs, clockTrusted, skewMs: this.#o.skewMs };
    const checked = authenticateFleetCommand(payload, {
      trustKeys: trust.keys,
      threshold: trust.threshold,
      deviceId: this.#d.link.deviceId,
      maxTtlS: this.#o.maxTtlS,
      maxBytes: this.#o.maxCommandBytes,
    });
    if (!checked.ok) return this.#reject(checked);
    const { command, kids } = checked;
    const who = Buffer.from(kids[0]!).toString('hex');
    // Without a trusted wall clock the reset's window cannot be judged: its compare-and-set guards it.
    const inWindow = checkTimeWindow(command, window);
    if (!inWindow.ok && (command.cmd !== RESET_TIME_COMMAND || clockTrusted)) return this.#reject(inWindow);
    if (command.cmd === RESET_TIME_COMMAND) return this.#resetTime(cache, command, who);
    const verdict = cache.check(command.id, command.exp);
    if (verdict !== 'fresh') {
      const reason =
        verdict === 'replayed'
          ? `command ${command.id} was already accepted`
          : `exp ${command.exp} is at or below the replay floor ${cache.floorS} (already expired or evicted)`;
      return this.#reject({ code: 'replayed', reason, command });
    }
    // A command this device does not have never runs: `rejected`, and its id is not spent.
    if (!this.#d.registry.get(command.cmd)) {
      const reason = `unknown command ${command.cmd}: this device has no such command`;
      return this.#reject({ code: 'unknown-command', reason, command });
    }
    try {
      await cache.remember(command.id, command.exp, command.iat, nowMs, this.#o.skewMs);
    } catch (error) {
      return this.#notRecorded(command, error);
    }
    const started = clock.monotonicMs();
    const result = await this.#d.registry.execute(command.cmd, command.args, { via: 'fleet', who });
    return this.#finish(
      command,
      who,
      started,
      result.ok
        ? { status: 'done', result: result.result }
        : { status: 'failed', code: result.code, message: result.message },
    );
  }

  /** A trusted wall clock bounds trusted time: a command from the future must not hold the channel. */
  async #clampToWallClock(cache: ReplayCache, wallMs: number): Promise<void> {
    let before: number | undefined;
    try {
      before = await cache.clampTo(wallMs + this.#o.skewMs, this.#o.maxTtlS);
    } catch (error) {
      this.#log.error({ err: errorMessage(error) }, 'cannot lower the fleet trusted time');
      return;
    }
    if (before === undefined) return;
    this.#log.warn(
      { trustedMs: before, wallMs, nowTrustedMs: cache.trustedMs, floorS: cache.floorS },
      'fleet trusted time was ahead of the trusted wall clock: lowered to it',
    );
  }

  /** `fleet.reset-time` (trusted-time.ts): a compare-and-set of the trusted time, by the fleet. */
  async #resetTime(cache: ReplayCache, command: FleetCommand, who: string): Promise<ChannelOutcome> {
    const args = parseResetTimeArgs(command.args);
    if (!args.ok) return this.#reject({ code: 'bad-payload', reason: args.reason, command });
    const holdsS = Math.floor(cache.trustedMs / 1000);
    if (cache.check(command.id, command.exp) === 'replayed') {
      return this.#reject({
        code: 'replayed',
        reason: `command ${command.id} was already accepted`,
        command,
      });
    }
    if (args.trustedS !== holdsS) {
      const reason = `${RESET_TIME_COMMAND} is for trusted time ${args.trustedS}; this device holds ${holdsS}`;
      return this.#reject({ code: 'replayed', reason, command });
    }
    try {
      await cache.resetTo(command.id, command.exp, command.iat, this.#o.skewMs, this.#o.maxTtlS);
    } catch (error) {
      return this.#notRecorded(command, error);
    }
    this.#log.warn(
      { id: command.id, who, fromS: holdsS, toS: command.iat, floorS: cache.floorS },
      'fleet trusted time reset',
    );
    const result = { previousTrustedS: holdsS, trustedS: command.iat, floorS: cache.floorS };
    return this.#finish(command, who, this.#d.clock.monotonicMs(), { status: 'done', result });
  }

  #notRecorded(command: FleetCommand, error: unknown): Promise<ChannelOutcome> {
    // Not durably remembered, so not run: the fleet may send it again once the disk recovers.
    return this.#reject({
      code: 'busy',
      reason: `cannot record the command id: ${errorMessage(error)}`,
      command,
    });
  }

  /** Logs, signs, publishes and emits the outcome of a command that ran. */
  async #finish(
    command: FleetCommand,
    who: string,
    startedMs: number,
    ran: Pick<CommandResultPayload, 'status' | 'result' | 'code' | 'message'>,
  ): Promise<ChannelOutcome> {
    const outcome: CommandResultPayload = { ...this.#base(), id: command.id, cmd: command.cmd, ...ran };
    this.#count(outcome.status);
    this.#log.info(
      {
        id: command.id,
        cmd: command.cmd,
        who,
        status: outcome.status,
        code: outcome.code,
        tookMs: Math.round(this.#d.clock.monotonicMs() - startedMs),
      },
      'fleet command',
    );
    const resultBytes = await this.#publish(outcome);
    const done: ChannelOutcome = {
      status: outcome.status,
      code: outcome.code,
      reason: outcome.message,
      id: command.id,
      cmd: command.cmd,
      resultBytes,
    };
    this.emit('handled', done);
    return done;
  }

  async #reject(r: {
    code: RejectCode;
    reason: string;
    command?: { id: string; cmd: string } | undefined;
  }): Promise<ChannelOutcome> {
    this.#count(r.code);
    const id = r.command?.id;
    const cmd = r.command?.cmd;
    let resultBytes: Uint8Array | undefined;
    if (this.#takeReportToken()) {
      this.#log.warn(
        {
          code: r.code,
          reason: r.reason,
          id,
          cmd,
          ...(this.#suppressed ? { suppressed: this.#suppressed } : {}),
        },
        'fleet command rejected',
      );
      this.#suppressed = 0;
      resultBytes = await this.#publish({
        ...this.#base(),
        id,
        cmd,
        status: 'rejected',
        code: r.code,
        message: r.reason,
      });
    } else {
      this.#suppressed++;
    }
    const outcome: ChannelOutcome = {
      status: 'rejected',
      code: r.code,
      reason: r.reason,
      id,
      cmd,
      resultBytes,
    };
    this.emit('handled', outcome);
    return outcome;
  }

  #base(): Pick<CommandResultPayload, 'device' | 'iat'> {
    return { device: this.#d.link.deviceId, iat: Math.floor(this.#d.clock.nowMs() / 1000) };
  }

  /** Signs and publishes a result; returns the signed bytes (published or not). */
  async #publish(result: CommandResultPayload): Promise<Uint8Array | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await signDeviceCose1(encodeResult(result), this.#d.signer);
    } catch (error) {
      this.#log.error({ id: result.id, err: errorMessage(error) }, 'cannot sign the command result');
      return undefined;
    }
    try {
      await this.#d.link.publish(this.#d.link.topics.cmdResult, bytes, {
        qos: 1,
        contentType: 'application/cose; cose-type="cose-sign1"',
      });
    } catch (error) {
      this.#log.warn(
        { id: result.id, status: result.status, err: errorMessage(error) },
        'command result not published',
      );
    }
    return bytes;
  }

  #takeReportToken(): boolean {
    const perMin = this.#o.rejectReportsPerMinute;
    const now = this.#d.clock.monotonicMs();
    this.#reportTokens = Math.min(
      perMin,
      this.#reportTokens + ((now - this.#reportRefillMs) * perMin) / 60_000,
    );
    this.#reportRefillMs = now;
    if (this.#reportTokens < 1) return false;
    this.#reportTokens -= 1;
    return true;
  }

  #count(key: string): void {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }
}

/** Where the replay cache lives under the state directory. */
export function replayFileIn(stateDir: string): string {
  return path.join(stateDir, 'fleet', 'replay.log');
}
