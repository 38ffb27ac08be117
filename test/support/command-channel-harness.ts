/**
 * The fleet command channel over a link double (the link's publish/subscribe surface, a *bus*): a
 * fleet key, a device signer, a registry with `status` and `loop.setpoint`, and `channel()` that
 * starts a real CommandChannel with a real replay cache in `dir` — for test/unit/link/*.
 */
import { z } from 'zod';
import { verifyDeviceCose1 } from '../../agent/attest/device-cose.js';
import { CommandError, CommandRegistry } from '../../agent/commands/registry.js';
import { generateKeyPair } from '../../agent/core/cose.js';
import { silentLogger } from '../../agent/core/log.js';
import {
  CommandChannel,
  type CommandChannelOptions,
  replayFileIn,
} from '../../agent/link/command-channel.js';
import { decodeResult, type FleetCommand, signFleetCommand } from '../../agent/link/fleet-command.js';
import { deviceTopics } from '../../agent/link/topics.js';
import type { MessageHandler, PublishOptions } from '../../agent/link/types.js';
import { ed25519TestSigner } from './device-signers.js';
import type { FakeClock } from './fake-clock.js';

export const fleet = generateKeyPair();
export const device = ed25519TestSigner();

/** The link's publish/subscribe surface, recording what the channel sends. */
export class LinkDouble {
  readonly deviceId = 'gw-0042';
  readonly topics = deviceTopics('edge', 'gw-0042');
  readonly published: { topic: string; payload: Uint8Array; options: PublishOptions | undefined }[] = [];
  readonly handlers = new Map<string, MessageHandler>();
  subscribe(filter: string, handler: MessageHandler): () => void {
    this.handlers.set(filter, handler);
    return () => this.handlers.delete(filter);
  }
  async publish(topic: string, payload: Uint8Array, options?: PublishOptions): Promise<void> {
    this.published.push({ topic, payload, options });
  }
}

export function registry(calls: string[]): CommandRegistry {
  const r = new CommandRegistry();
  r.register({
    name: 'status',
    summary: 'status',
    args: z.strictObject({}),
    run: async (_a, ctx) => {
      calls.push(`status by ${ctx.via}:${ctx.who}`);
      return { version: '0.3.1', ageMs: undefined, at: new Date(0) };
    },
  });
  r.register({
    name: 'loop.setpoint',
    summary: 'setpoint',
    args: z.strictObject({ loop: z.string(), value: z.number() }),
    run: async ({ loop, value }) => {
      if (loop !== 'chamber') throw new CommandError('EUNKNOWN_LOOP', `no loop ${loop}`);
      calls.push(`setpoint ${value}`);
      return { setpoint: value };
    },
  });
  return r;
}

export async function channel(
  opts: {
    dir: string;
    clock: FakeClock;
    calls: string[];
    link?: LinkDouble;
    /** The wall clock's trust (telemetry's in the agent); default: trusted. */
    isClockTrusted?: () => boolean;
  } & Partial<CommandChannelOptions>,
) {
  const link = opts.link ?? new LinkDouble();
  const c = new CommandChannel(
    {
      link,
      registry: registry(opts.calls),
      signer: device,
      clock: opts.clock,
      log: silentLogger(),
      trust: async () => ({ keys: [fleet.publicKey], threshold: 1 }),
      ...(opts.isClockTrusted ? { isClockTrusted: opts.isClockTrusted } : {}),
    },
    {
      replayFile: replayFileIn(opts.dir),
      replayCapacity: opts.replayCapacity ?? 100,
      skewMs: 60_000,
      maxTtlS: 3600,
      maxCommandBytes: 64 * 1024,
      maxQueued: opts.maxQueued ?? 32,
      rejectReportsPerMinute: opts.rejectReportsPerMinute ?? 30,
    },
  );
  await c.start();
  return { channel: c, link };
}

export function cmd(clock: FakeClock, extra: Partial<FleetCommand> = {}): Uint8Array {
  const now = Math.floor(clock.nowMs() / 1000);
  return signFleetCommand(
    { id: 'c-1', device: 'gw-0042', iat: now, exp: now + 60, cmd: 'status', args: {}, ...extra },
    [fleet],
  );
}

export function resultOf(payload: Uint8Array) {
  const v = verifyDeviceCose1(payload, device.publicKey);
  if (!v.ok) throw new Error(v.reason);
  const r = decodeResult(v.payload);
  if (!r.ok) throw new Error(r.reason);
  return r.result;
}
