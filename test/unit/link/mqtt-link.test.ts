/**
 * The session's own logic over a fake MQTT.js client (the `connect` seam): what it asks the broker
 * for (MQTT 5, clean start, our reconnects, retained last will), TLS files, and the reconnect
 * schedule (exponential backoff with jitter, on the fake clock). Broker behaviour is tested against
 * mosquitto in test/integration/telemetry/link.test.ts.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { decode } from 'cbor-x';
import type { IClientOptions, MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../../agent/core/log.js';
import { MqttLink, redact } from '../../../agent/link/mqtt-link.js';
import { FakeClock } from '../../support/fake-clock.js';
import { hexBytes } from '../../support/hand-cbor.js';

class FakeClient extends EventEmitter {
  ended = false;
  /** The connection's byte stream, where the link watches incoming packet sizes. */
  readonly stream = new PassThrough();
  readonly published: { topic: string; retain: boolean }[] = [];
  end(_force: boolean, _opts: unknown, cb: () => void): this {
    this.ended = true;
    cb();
    return this;
  }
  publish(topic: string, _payload: Buffer, opts: { retain: boolean }, cb: (e?: Error) => void): this {
    this.published.push({ topic, retain: opts.retain });
    cb();
    return this;
  }
  async subscribeAsync(): Promise<[]> {
    return [];
  }
}

function setup(random = () => 0, log = silentLogger()) {
  const clock = new FakeClock();
  const attempts: { atMs: number; url: string; options: IClientOptions; client: FakeClient }[] = [];
  const link = new MqttLink(
    {
      clock,
      log,
      random,
      readFile: async (p) => Buffer.from(`contents of ${p}`),
      connect: (url, options) => {
        const client = new FakeClient();
        attempts.push({ atMs: clock.monotonicMs(), url, options, client });
        return client as unknown as MqttClient;
      },
    },
    {
      url: 'mqtts://user:secret@broker:8883',
      deviceId: 'gw-1',
      topicPrefix: 'edge',
      keepaliveS: 30,
      connectTimeoutMs: 5000,
      backoff: { baseMs: 1000, maxMs: 8000 },
      tls: { ca: '/etc/edge/ca.pem', cert: '/etc/edge/gw.crt', key: '/etc/edge/gw.key' },
      status: () => ({ boot: 'b1' }),
    },
  );
  return { clock, link, attempts };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('MqttLink', () => {
  it('connects with MQTT 5, clean start, no MQTT.js reconnect, TLS files and a retained offline will', async () => {
    const { link, attempts, clock } = setup();
    link.start();
    await settle();
    await clock.advance(0);
    const o = attempts[0]?.options as IClientOptions;
    expect(o).toMatchObject({
      protocolVersion: 5,
      clientId: 'gw-1',
      clean: true,
      keepalive: 30,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 0, maximumPacketSize: link.maximumPacketSize },
    });
    // The default 64 KiB command limit, plus the longest topic and the header allowance.
    expect(link.maximumPacketSize).toBe(64 * 1024 + 5 + 2 + 'edge/gw-1/cmd/result'.length + 2 + 2048);
    expect(String(o.ca)).toBe('contents of /etc/edge/ca.pem');
    expect(String(o.cert)).toBe('contents of /etc/edge/gw.crt');
    expect(String(o.key)).toBe('contents of /etc/edge/gw.key');
    expect(o.will).toMatchObject({ topic: 'edge/gw-1/status', qos: 1, retain: true });
    expect(decode(o.will?.payload as Buffer)).toEqual({ state: 'offline', boot: 'b1' });
    await link.stop();
  });

  it('writes the status map in RFC 8949 §4.1 preferred serialization: a2, not b9 00 02', async () => {
    const { link, attempts, clock } = setup();
    link.start();
    await settle();
    await clock.advance(0);
    const options = attempts[0]?.options as IClientOptions;
    const will = new Uint8Array(options.will?.payload as Buffer);
    // {"state": "offline", "boot": "b1"} written by hand
    expect(will).toEqual(hexBytes('a2 65 7374617465 67 6f66666c696e65 64 626f6f74 62 6231'));
    await link.stop();
  });

  it('retries with exponential backoff while the broker is unreachable', async () => {
    const { link, attempts, clock } = setup(() => 0); // jitter factor 1 − 0: the full ceiling
    link.start();
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 200 && attempts.length <= i; j++) {
        await settle();
        await clock.advance(100);
      }
      const c = attempts[i]?.client;
      c?.emit('error', new Error('connect ECONNREFUSED'));
      c?.emit('close');
    }
    const gaps = attempts.slice(1).map((a, i) => a.atMs - (attempts[i]?.atMs ?? 0));
    // 1 s, 2 s, 4 s, 8 s (the cap), measured to the 100 ms steps of the test.
    expect(gaps.map((g) => Math.round(g / 1000))).toEqual([1, 2, 4, 8]);
    expect(link.status()).toMatchObject({
      state: 'connecting',
      reconnects: 4,
      lastError: 'connect ECONNREFUSED',
    });
    await link.stop();
  });

  it('says once, as an error with the URL, cause and hint, that the broker name does not resolve', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({
      pretty: false,
      destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const { link, attempts, clock } = setup(() => 0, log);
    link.start();
    const dnsError = (code: string) =>
      Object.assign(new Error(`getaddrinfo ${code} broker`), {
        code,
        syscall: 'getaddrinfo',
        hostname: 'broker',
      });
    for (const [i, error] of [
      dnsError('ENOTFOUND'),
      dnsError('EAI_AGAIN'),
      new Error('connect ECONNREFUSED'),
    ].entries()) {
      for (let j = 0; j < 200 && attempts.length <= i; j++) {
        await settle();
        await clock.advance(100);
      }
      attempts[i]?.client.emit('error', error);
    }
    await settle();
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toEqual([
      expect.objectContaining({
        step: 'link',
        address: 'mqtts://broker:8883',
        code: 'ENOTFOUND',
        reason: 'the host name broker does not resolve',
        hint: 'check the host name in link.url and the DNS settings (/etc/resolv.conf)',
        msg: 'broker host name does not resolve; the agent runs offline and keeps trying',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret');
    // The attempts after it are the usual warnings.
    expect(lines.filter((l) => l.msg === 'link connect failed').map((l) => l.err)).toEqual([
      'getaddrinfo EAI_AGAIN broker',
      'connect ECONNREFUSED',
    ]);
    await link.stop();
  });

  it('spreads reconnects with full jitter', async () => {
    const { link, attempts, clock } = setup(() => 0.75);
    link.start();
    for (let j = 0; j < 50 && attempts.length < 1; j++) {
      await settle();
      await clock.advance(10);
    }
    attempts[0]?.client.emit('close');
    for (let j = 0; j < 100 && attempts.length < 2; j++) {
      await settle();
      await clock.advance(10);
    }
    // A quarter of the 1 s ceiling (to the 10 ms steps of the test).
    const gap = (attempts[1]?.atMs ?? 0) - (attempts[0]?.atMs ?? 0);
    expect(gap).toBeGreaterThanOrEqual(250);
    expect(gap).toBeLessThanOrEqual(260);
    await link.stop();
  });

  it('publishes a retained online status when connected, then reports up', async () => {
    const { link, attempts, clock } = setup();
    let up = false;
    link.on('up', () => {
      up = true;
    });
    link.start();
    for (let j = 0; j < 50 && attempts.length < 1; j++) {
      await settle();
      await clock.advance(10);
    }
    attempts[0]?.client.emit('connect');
    for (let j = 0; j < 10 && !up; j++) await settle();
    expect(up).toBe(true);
    expect(attempts[0]?.client.published).toEqual([{ topic: 'edge/gw-1/status', retain: true }]);
    expect(link.status()).toMatchObject({ state: 'up', url: 'mqtts://broker:8883', clientId: 'gw-1' });
    await link.stop();
    expect(attempts[0]?.client.published.at(-1)).toEqual({ topic: 'edge/gw-1/status', retain: true });
    expect(link.status().state).toBe('stopped');
  });

  it('never shows credentials in its status', () => {
    expect(redact('mqtts://user:secret@broker:8883')).toBe('mqtts://broker:8883');
    expect(redact('mqtt://broker')).toBe('mqtt://broker');
  });
});
