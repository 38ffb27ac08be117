/**
 * The MQTT session against a real mosquitto: retained status with a last will, subscriptions that
 * survive a broker restart, and publishes that fail honestly when the session is gone.
 */
import { decode } from 'cbor-x';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { createLogger, silentLogger } from '../../../agent/core/log.js';
import { isLinkError } from '../../../agent/link/errors.js';
import { MqttLink, type MqttLinkOptions } from '../../../agent/link/mqtt-link.js';
import type { IncomingMessage } from '../../../agent/link/types.js';
import { hasMosquitto, Mosquitto } from '../../support/mosquitto.js';
import { rejection } from '../../support/rejection.js';
import { describeWithTools } from '../../support/system-tools.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { until } from '../../support/until.js';

let broker: Mosquitto;
const links: MqttLink[] = [];
const observers: MqttClient[] = [];

beforeAll(async () => {
  if (hasMosquitto) broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.stop()));
  await Promise.all(observers.splice(0).map((c) => c.endAsync(true)));
  if (hasMosquitto && !broker.running) await broker.resume();
});

function link(extra: Partial<MqttLinkOptions> = {}): MqttLink {
  const l = new MqttLink(
    {
      clock: new SystemClock(),
      log: process.env.DBG ? createLogger({ level: 'debug', pretty: false }) : silentLogger(),
      connect: (url, options) => connect(url, options),
    },
    {
      url: broker.url,
      deviceId: `gw-${Math.random().toString(16).slice(2, 8)}`,
      topicPrefix: 'edge',
      keepaliveS: 5,
      connectTimeoutMs: 2000,
      backoff: { baseMs: 50, maxMs: 200 },
      status: () => ({ boot: '00000001-abcdef01' }),
      ...extra,
    },
  );
  links.push(l);
  return l;
}

/** A plain MQTT 5 client that records what it receives on `filter`. */
async function observe(
  filter: string,
): Promise<{ messages: { topic: string; payload: Buffer; retain: boolean }[] }> {
  const client = await connect(broker.url, { protocolVersion: 5, reconnectPeriod: 100 });
  observers.push(client);
  const messages: { topic: string; payload: Buffer; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, retain: packet.retain }));
  await new Promise((r) => client.once('connect', r));
  await client.subscribeAsync(filter, { qos: 1 });
  return { messages };
}

const up = (l: MqttLink) => new Promise<void>((r) => l.once('up', () => r()));

describeWithTools(['mosquitto'], 'MqttLink against mosquitto', () => {
  it('publishes a retained online status, and offline when stopped', async () => {
    const l = link();
    const seen = await observe(l.topics.status);
    l.start();
    await up(l);
    await until(() => seen.messages.length >= 1, 'online status');
    expect(decode(seen.messages[0]?.payload as Buffer)).toEqual({
      state: 'online',
      boot: '00000001-abcdef01',
    });
    await l.stop();
    await until(() => seen.messages.length >= 2, 'offline status');
    expect(decode(seen.messages[1]?.payload as Buffer)).toMatchObject({ state: 'offline' });
    // Retained: a late subscriber learns the last state.
    const late = await observe(l.topics.status);
    await until(() => late.messages.length >= 1, 'retained status');
    expect(late.messages[0]?.retain).toBe(true);
    expect(decode(late.messages[0]?.payload as Buffer)).toMatchObject({ state: 'offline' });
  });

  it('leaves its last will (offline) when the connection dies without a DISCONNECT, then comes back', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: broker.port });
    try {
      const l = link({ url: `mqtt://127.0.0.1:${proxy.port}` });
      const seen = await observe(l.topics.status);
      l.start();
      await up(l);
      proxy.cut();
      await until(() => seen.messages.length >= 3, 'online, will, online');
      expect(proxy.connections).toBe(2);
      expect(seen.messages.map((m) => (decode(m.payload) as { state: string }).state)).toEqual([
        'online',
        'offline',
        'online',
      ]);
    } finally {
      await proxy.stop();
    }
  });

  it('drops a session whose connection dies before the broker acks the online status, and reconnects', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: broker.port });
    try {
      const stalled = proxy.stallAfterFirstReply(); // CONNACK, then silence
      const l = link({ url: `mqtt://127.0.0.1:${proxy.port}` });
      l.start();
      await stalled;
      proxy.cut();
      await up(l);
      expect(proxy.connections).toBe(2);
    } finally {
      await proxy.stop();
    }
  });

  it('stops while the broker has not acked the online status yet', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: broker.port });
    try {
      const stalled = proxy.stallAfterFirstReply();
      const l = link({ url: `mqtt://127.0.0.1:${proxy.port}` });
      l.start();
      await stalled;
      // A clean end waits 2 s for the pending ack, then drops the socket; without that bound the stop
      // would wait for the keepalive (1.5 × 5 s) to give up on the silent broker.
      const hung = new Promise<string>((r) => setTimeout(() => r('stop hung'), 6000).unref());
      expect(await Promise.race([l.stop().then(() => 'stopped'), hung])).toBe('stopped');
      expect(l.status().state).toBe('stopped');
    } finally {
      await proxy.stop();
    }
  });

  it('keeps its subscriptions across a broker restart', async () => {
    const l = link();
    const received: IncomingMessage[] = [];
    l.subscribe(l.topics.cmd, (m) => received.push(m));
    l.start();
    await up(l);
    const down = new Promise((r) => l.once('down', r));
    await broker.pause();
    await down;
    const again = up(l);
    await broker.resume();
    await again;
    const sender = await connect(broker.url, { protocolVersion: 5 });
    observers.push(sender);
    await sender.publishAsync(l.topics.cmd, Buffer.from([1, 2, 3]), {
      qos: 1,
      properties: { userProperties: { kid: 'abc' }, contentType: 'application/cose' },
    });
    await until(() => received.length === 1, 'the command');
    expect(received[0]).toMatchObject({
      topic: l.topics.cmd,
      payload: new Uint8Array([1, 2, 3]),
      userProperties: { kid: 'abc' },
      contentType: 'application/cose',
    });
    expect(l.status().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('rejects a publish with ENOTCONNECTED while down and ECLOSED when the session dies before the PUBACK', async () => {
    const l = link({ backoff: { baseMs: 5000, maxMs: 5000 } });
    const err = await rejection(l.publish('edge/x/telemetry', new Uint8Array([1])));
    expect(isLinkError(err) && err.code).toBe('ENOTCONNECTED');
    l.start();
    await up(l);
    // SIGSTOP-like: the broker vanishes with publishes in flight.
    const pending = Array.from({ length: 50 }, () =>
      l.publish('edge/x/telemetry', new Uint8Array(10_000)).then(
        () => 'acked',
        (e: unknown) => (isLinkError(e) ? e.code : 'other'),
      ),
    );
    const down = new Promise((r) => l.once('down', r));
    await broker.pause();
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((o) => o === 'acked' || o === 'ECLOSED')).toBe(true);
    await down;
    expect(l.connected).toBe(false);
    expect(isLinkError(await rejection(l.publish('edge/x/telemetry', new Uint8Array([1]))))).toBe(true);
  });
});
