import { describe, expect, it } from 'vitest';
import { linkSchema } from '../../../agent/link/link-schema.js';

describe('link configuration', () => {
  it('defaults to no broker (offline), prefix edge, 1 s – 60 s reconnect backoff', () => {
    expect(linkSchema.parse(undefined)).toEqual({
      tls: { rejectUnauthorized: true },
      topicPrefix: 'edge',
      keepaliveS: 30,
      sessionExpiryS: 0,
      connectTimeoutMs: 10_000,
      backoff: { baseMs: 1000, maxMs: 60_000 },
    });
  });

  it('accepts a TLS broker with a client certificate', () => {
    const c = linkSchema.parse({
      url: 'mqtts://broker.example.com:8883',
      username: 'gw-1',
      tls: { ca: 'ca.pem', cert: 'gw.crt', key: 'gw.key' },
    });
    expect(c.tls).toEqual({ ca: 'ca.pem', cert: 'gw.crt', key: 'gw.key', rejectUnauthorized: true });
  });

  it.each([
    [{ url: 'http://broker' }, 'url'],
    [{ tls: { cert: 'gw.crt' } }, 'tls'],
    [{ topicPrefix: 'edge/#' }, 'topicPrefix'],
    [{ backoff: { baseMs: 5000, maxMs: 1000 } }, 'backoff'],
    [{ port: 1883 }, ''],
  ])('rejects %j at %s', (input, path) => {
    const result = linkSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(path);
  });
});
