/**
 * `link.sessionExpiryS` against a real mosquitto: with it, the broker keeps the device's session while
 * the device is away, and a command the fleet publishes meanwhile (QoS 1) arrives when the device
 * connects again; without it (the default, clean start) that command is gone. A broker cluster with
 * offline queues (EMQX, VerneMQ) works the same way (README "Fleets").
 */
import { connect } from 'mqtt';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { MqttLink } from '../../../agent/link/mqtt-link.js';
import { hasMosquitto, Mosquitto } from '../../support/mosquitto.js';
import { describeWithTools } from '../../support/system-tools.js';
import { until } from '../../support/until.js';

let broker: Mosquitto;
const stops: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  if (hasMosquitto) broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function device(id: string, sessionExpiryS: number) {
  const link = new MqttLink(
    { clock: new SystemClock(), log: silentLogger() },
    {
      url: broker.url,
      deviceId: id,
      topicPrefix: 'edge',
      keepaliveS: 30,
      sessionExpiryS,
      connectTimeoutMs: 2000,
      backoff: { baseMs: 50, maxMs: 200 },
    },
  );
  const received: string[] = [];
  link.subscribe(link.topics.cmd, (m) => received.push(Buffer.from(m.payload).toString()), { qos: 1 });
  link.start();
  await until(() => link.connected, 'the link up', 10_000);
  return { link, received };
}

async function publishWhileAway(topic: string, text: string): Promise<void> {
  const fleet = connect(broker.url, { protocolVersion: 5, clientId: `fleet-${text}` });
  await new Promise<void>((resolve) => fleet.once('connect', () => resolve()));
  await fleet.publishAsync(topic, Buffer.from(text), { qos: 1 });
  await fleet.endAsync();
}

describeWithTools(['mosquitto'], 'link.sessionExpiryS', () => {
  it('keeps the session while the device is away: a command sent meanwhile arrives at the next connect', async () => {
    const first = await device('gw-keep', 3600);
    await first.link.stop();
    await publishWhileAway(first.link.topics.cmd, 'queued while away');
    const again = await device('gw-keep', 3600);
    stops.push(() => again.link.stop());
    await until(() => again.received.length > 0, 'the queued command', 5000);
    expect(again.received).toEqual(['queued while away']);
  });

  it('starts clean by default: what was sent while the device was away is not delivered', async () => {
    const first = await device('gw-clean', 0);
    await first.link.stop();
    await publishWhileAway(first.link.topics.cmd, 'lost while away');
    const again = await device('gw-clean', 0);
    stops.push(() => again.link.stop());
    await publishWhileAway(again.link.topics.cmd, 'sent while up');
    await until(() => again.received.length > 0, 'the live command', 5000);
    expect(again.received).toEqual(['sent while up']);
  });
});
