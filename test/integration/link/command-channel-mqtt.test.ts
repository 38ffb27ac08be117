/**
 * The signed command channel end to end over a real mosquitto: the fleet (a plain MQTT 5 client)
 * publishes a COSE-signed command on `edge/<id>/cmd`, the agent's link and channel verify and run it,
 * and the device-signed result arrives on `edge/<id>/cmd/result` — including attestation evidence the
 * fleet verifies, a forged command that is refused, and a replay refused after the agent restarts.
 */
import { connect, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { registerAttestCommand } from '../../../agent/attest/attest-command.js';
import { verifyDeviceCose1 } from '../../../agent/attest/device-cose.js';
import { Attester } from '../../../agent/attest/evidence.js';
import { type Identity, loadIdentity } from '../../../agent/attest/identity.js';
import { measureValue } from '../../../agent/attest/measure.js';
import { verifyEvidence } from '../../../agent/attest/verify-evidence.js';
import { CommandRegistry } from '../../../agent/commands/registry.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { silentLogger } from '../../../agent/core/log.js';
import { CommandChannel, replayFileIn } from '../../../agent/link/command-channel.js';
import {
  type CommandResultPayload,
  decodeResult,
  signFleetCommand,
} from '../../../agent/link/fleet-command.js';
import { MqttLink } from '../../../agent/link/mqtt-link.js';
import { hasMosquitto, Mosquitto } from '../../support/mosquitto.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-cmd-mqtt-');
const clock = new SystemClock();
const fleetKey = generateKeyPair();
let broker: Mosquitto;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  if (hasMosquitto) broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** One agent: identity, link, registry with `status` and `attest`, and the command channel. */
async function agent(stateDir: string): Promise<{ identity: Identity; link: MqttLink }> {
  const identity = await loadIdentity(
    { backend: 'software', dir: `${stateDir}/identity` },
    { clock },
    { create: true },
  );
  const registry = new CommandRegistry();
  registry.register({
    name: 'status',
    summary: 'status',
    args: z.strictObject({}),
    run: async () => ({ version: '0.3.1', uptimeS: 12 }),
  });
  const attester = new Attester(
    {
      identity,
      clock,
      log: silentLogger(),
      sources: [{ name: 'config', measure: async () => measureValue({ a: 1 }) }],
      bootClaims: async () => ({ bootCount: 3, bootSeed: new Uint8Array(16).fill(1) }),
      uptimeS: () => 100,
    },
    { swName: 'edge-agent', swVersion: '0.3.1' },
  );
  registerAttestCommand(registry, { attester, signer: identity.signer });
  const link = new MqttLink(
    { clock, log: silentLogger() },
    {
      url: broker.url,
      deviceId: identity.deviceId,
      topicPrefix: 'edge',
      keepaliveS: 5,
      connectTimeoutMs: 2000,
      backoff: { baseMs: 50, maxMs: 200 },
    },
  );
  const channel = new CommandChannel(
    {
      link,
      registry,
      signer: identity.signer,
      clock,
      log: silentLogger(),
      trust: async () => ({ keys: [fleetKey.publicKey], threshold: 1 }),
    },
    {
      replayFile: replayFileIn(stateDir),
      replayCapacity: 1024,
      skewMs: 60_000,
      maxTtlS: 3600,
      maxCommandBytes: 64 * 1024,
      maxQueued: 32,
      rejectReportsPerMinute: 30,
    },
  );
  await channel.start();
  const up = new Promise<void>((resolve) => link.once('up', () => resolve()));
  link.start();
  await up;
  stops.push(async () => {
    await channel.stop();
    await link.stop();
  });
  return { identity, link };
}

/** The fleet: publishes commands, collects device-signed results. */
async function fleet(
  deviceId: string,
): Promise<{ client: MqttClient; results: Uint8Array[]; next(): Promise<Uint8Array> }> {
  const client = await connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  stops.push(() => client.endAsync(true));
  const results: Uint8Array[] = [];
  const waiters: ((b: Uint8Array) => void)[] = [];
  client.on('message', (_topic, payload) => {
    const bytes = new Uint8Array(payload);
    const w = waiters.shift();
    if (w) w(bytes);
    else results.push(bytes);
  });
  await client.subscribeAsync(`edge/${deviceId}/cmd/result`, { qos: 1 });
  return {
    client,
    results,
    next: () => {
      const queued = results.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no result within 5 s')), 5000);
        waiters.push((b) => {
          clearTimeout(timer);
          resolve(b);
        });
      });
    },
  };
}

function open(bytes: Uint8Array, publicKey: Uint8Array): CommandResultPayload {
  const v = verifyDeviceCose1(bytes, publicKey);
  if (!v.ok) throw new Error(`result signature: ${v.reason}`);
  const r = decodeResult(v.payload);
  if (!r.ok) throw new Error(r.reason);
  return r.result;
}

function command(
  deviceId: string,
  id: string,
  cmd: string,
  args: Record<string, unknown> = {},
  key = fleetKey,
) {
  const now = Math.floor(Date.now() / 1000);
  return signFleetCommand({ id, device: deviceId, iat: now, exp: now + 60, cmd, args }, [key]);
}

describeWithTools(['mosquitto'], 'signed commands over mosquitto', () => {
  it('a signed command goes in and a device-signed result comes out', async () => {
    const { identity } = await agent(await tempDir());
    const f = await fleet(identity.deviceId);
    await f.client.publishAsync(
      `edge/${identity.deviceId}/cmd`,
      Buffer.from(command(identity.deviceId, 'c-1', 'status')),
      { qos: 1 },
    );
    expect(open(await f.next(), identity.signer.publicKey)).toMatchObject({
      device: identity.deviceId,
      id: 'c-1',
      cmd: 'status',
      status: 'done',
      result: { version: '0.3.1', uptimeS: 12 },
    });
  });

  it('answers an attest challenge with evidence the fleet verifies against the device key', async () => {
    const { identity } = await agent(await tempDir());
    const f = await fleet(identity.deviceId);
    const nonce = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
    await f.client.publishAsync(
      `edge/${identity.deviceId}/cmd`,
      Buffer.from(command(identity.deviceId, 'att-1', 'attest', { nonce: new Uint8Array(nonce) })),
      { qos: 1 },
    );
    const result = open(await f.next(), identity.signer.publicKey);
    expect(result).toMatchObject({ status: 'done', cmd: 'attest' });
    const evidence = (result.result as { evidence: Uint8Array }).evidence;
    expect(evidence).toBeInstanceOf(Uint8Array);
    expect(
      verifyEvidence(evidence, { publicKey: identity.signer.publicKey, nonce: new Uint8Array(nonce) }),
    ).toMatchObject({
      ok: true,
      claims: { deviceId: identity.deviceId, bootCount: 3 },
    });
  });

  it('refuses a command signed by a key outside the trust root, and says so signed', async () => {
    const { identity } = await agent(await tempDir());
    const f = await fleet(identity.deviceId);
    const forged = command(identity.deviceId, 'evil', 'status', {}, generateKeyPair());
    await f.client.publishAsync(`edge/${identity.deviceId}/cmd`, Buffer.from(forged), { qos: 1 });
    expect(open(await f.next(), identity.signer.publicKey)).toMatchObject({
      status: 'rejected',
      code: 'unknown-key',
    });
  });

  it('refuses a command replayed through the broker after the agent restarted', async () => {
    const stateDir = await tempDir();
    const first = await agent(stateDir);
    const f = await fleet(first.identity.deviceId);
    const bytes = Buffer.from(command(first.identity.deviceId, 'once', 'status'));
    const topic = `edge/${first.identity.deviceId}/cmd`;
    await f.client.publishAsync(topic, bytes, { qos: 1 });
    expect(open(await f.next(), first.identity.signer.publicKey)).toMatchObject({ status: 'done' });
    for (const stop of stops.splice(0, 1)) await stop(); // the agent stops; the fleet client stays
    await agent(stateDir);
    await f.client.publishAsync(topic, bytes, { qos: 1 });
    expect(open(await f.next(), first.identity.signer.publicKey)).toMatchObject({
      status: 'rejected',
      code: 'replayed',
      id: 'once',
    });
  });
});
