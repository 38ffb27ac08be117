/**
 * The agent's MQTT client does not build mqtt-packet's cache of 65 536 packet-id Buffers (~7 MB of
 * heap): a fresh process loads MQTT.js the way the link does (dist/agent/link/load-mqtt.js, built by
 * `npm test` before vitest), publishes at QoS 1 to a real mosquitto, and reports the cache's size.
 * The same with plain MQTT.js shows the cache this avoids.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/agent-process.js';
import { hasMosquitto, Mosquitto } from '../../support/mosquitto.js';
import { describeWithTools } from '../../support/system-tools.js';

let broker: Mosquitto;
beforeAll(async () => {
  if (hasMosquitto) broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker?.stop();
});

const script = (loader: string) => `
  const { createRequire } = await import('node:module');
  const connect = ${loader};
  const client = connect(process.argv[1], { protocolVersion: 5 });
  await new Promise((resolve) => client.once('connect', resolve));
  await client.publishAsync('edge/test', 'x', { qos: 1 });
  await client.endAsync();
  const numbers = createRequire(${JSON.stringify(path.join(REPO_ROOT, 'package.json'))})('mqtt-packet/numbers.js');
  console.log(Object.keys(numbers.cache).length);
`;

async function cachedNumbers(loader: string): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script(loader), broker.url],
    { cwd: REPO_ROOT },
  );
  return Number(stdout.trim());
}

describeWithTools(['mosquitto'], 'the MQTT client the link loads', () => {
  it('publishes without building the packet-id Buffer cache that plain MQTT.js builds', async () => {
    const ours = `await (await import(${JSON.stringify(path.join(REPO_ROOT, 'dist/agent/link/load-mqtt.js'))})).loadMqttConnect()`;
    expect(await cachedNumbers(ours)).toBe(0);
    expect(await cachedNumbers(`(await import('mqtt')).connect`)).toBe(65_536);
  });
});
