/**
 * A publish larger than the command size limit never reaches a handler (issue 20 pt 9). The link
 * states an MQTT 5 Maximum Packet Size in CONNECT (the fleet's maxCommandBytes plus topic and
 * headers): a real mosquitto then drops the oversized message and the session stays up. The broker is
 * not trusted, so the link also checks each packet header as it arrives: a broker that sends one over
 * the limit anyway (played by a TCP proxy in front of mosquitto) loses the connection at the header,
 * before the body is buffered, and the link reconnects and goes on. RSS figures: scripts/bench/mqtt-oversize.ts.
 */
import { connect, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { MqttLink } from '../../../agent/link/mqtt-link.js';
import { hasMosquitto, Mosquitto } from '../../support/mosquitto.js';
import { describeWithTools } from '../../support/system-tools.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { until } from '../../support/until.js';

const COMMAND_LIMIT = 64 * 1024;
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

/** A link to `port` with a handler on its command topic recording payload sizes, and its up/down count. */
async function deviceOn(port: number) {
  const link = new MqttLink(
    { clock: new SystemClock(), log: silentLogger() },
    {
      url: `mqtt://127.0.0.1:${port}`,
      deviceId: 'gw-big',
      topicPrefix: 'edge',
      keepaliveS: 30,
      connectTimeoutMs: 2000,
      backoff: { baseMs: 50, maxMs: 200 },
      maxIncomingPayloadBytes: COMMAND_LIMIT,
    },
  );
  const received: number[] = [];
  link.subscribe(link.topics.cmd, (m) => received.push(m.payload.length), { qos: 1 });
  const counts = { up: 0, down: 0 };
  link.on('up', () => counts.up++);
  link.on('down', () => counts.down++);
  link.start();
  stops.push(() => link.stop());
  await until(() => link.connected, 'the link up', 10_000);
  return { link, received, counts };
}

async function fleetClient(): Promise<MqttClient> {
  const fleet = connect(broker.url, { protocolVersion: 5, clientId: 'fleet-big' });
  await new Promise<void>((resolve) => fleet.once('connect', () => resolve()));
  stops.push(() => fleet.endAsync());
  return fleet;
}

describeWithTools(['mosquitto'], 'a publish over the command size limit', () => {
  it('is dropped by mosquitto (the Maximum Packet Size in CONNECT); the session stays up', async () => {
    const { link, received, counts } = await deviceOn(broker.port);
    const fleet = await fleetClient();
    await fleet.publishAsync(link.topics.cmd, Buffer.alloc(8 * 1024 * 1024, 0x61), { qos: 1 });
    await fleet.publishAsync(link.topics.cmd, Buffer.alloc(COMMAND_LIMIT, 0x62), { qos: 1 });
    await until(() => received.length > 0, 'the command within the limit', 10_000);
    expect(received).toEqual([COMMAND_LIMIT]);
    expect(counts).toEqual({ up: 1, down: 0 });
    expect(link.maximumPacketSize).toBeGreaterThan(COMMAND_LIMIT);
    expect(link.maximumPacketSize).toBeLessThan(COMMAND_LIMIT + 4096);
  });

  it('sent anyway by a hostile broker, drops the connection at its header; the link reconnects and goes on', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: broker.port });
    stops.push(() => proxy.stop());
    const { link, received, counts } = await deviceOn(proxy.port);
    // PUBLISH QoS 0 declaring 200 MB (Remaining Length 200 000 000 as an MQTT varint), then a start of it.
    const header = Uint8Array.of(0x30, 0x80, 0x84, 0xaf, 0x5f);
    proxy.injectToClients(Buffer.concat([header, Buffer.alloc(64 * 1024)]));
    await until(
      () => counts.down === 1 && link.connected,
      'the link down and up again',
      10_000,
      () => counts,
    );
    expect(received).toEqual([]);
    const fleet = await fleetClient();
    await fleet.publishAsync(link.topics.cmd, Buffer.from('after'), { qos: 1 });
    await until(() => received.length === 1, 'a command after the reconnect', 10_000);
    expect(received).toEqual([5]);
  });
});
