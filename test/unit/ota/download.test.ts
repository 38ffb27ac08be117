import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { FilePayloadSource, HttpPayloadSource } from '../../../agent/ota/download.js';
import type { InstallError } from '../../../agent/ota/install-errors.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { PayloadServer } from '../../support/payload-server.js';
import { tempDirs } from '../../support/temp-dir.js';

const SIZE = 200_000;
const data = fakeImage('download', SIZE);
const newDir = tempDirs('ota-dl-');

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

describe('payload sources', () => {
  const server = new PayloadServer();
  const signal = new AbortController().signal;
  const http = (url: string, more: Partial<ConstructorParameters<typeof HttpPayloadSource>[0]> = {}) =>
    new HttpPayloadSource({ url, sizeBytes: SIZE, clock: new SystemClock(), ...more });
  beforeAll(async () => {
    await server.start();
    server.serve('/p.img', data);
  });
  afterAll(() => server.stop());

  it('reads a local file from an offset', async () => {
    const file = path.join(await newDir(), 'p.img');
    await writeFile(file, data);
    expect(
      (await collect(new FilePayloadSource(file).read(150_000, signal))).equals(data.subarray(150_000)),
    ).toBe(true);
  });

  it('asks for the rest with Range and checks Content-Range', async () => {
    const got = await collect(http(server.url('/p.img')).read(123_456, signal));
    expect(got.equals(data.subarray(123_456))).toBe(true);
    expect(server.requests.at(-1)).toMatchObject({ range: 'bytes=123456-', status: 206 });
  });

  it('skips what it already has when the server ignores Range', async () => {
    server.fail({ ignoreRange: true });
    const got = await collect(http(server.url('/p.img')).read(100_000, signal));
    expect(got.equals(data.subarray(100_000))).toBe(true);
    expect(server.requests.at(-1)?.status).toBe(200);
  });

  it('makes 429 and 5xx transient, honouring Retry-After; other 4xx fatal', async () => {
    server.fail({ status: 503, retryAfterS: 7 });
    await expect(collect(http(server.url('/p.img')).read(0, signal))).rejects.toMatchObject({
      reason: 'http-503',
      transient: true,
      retryAfterMs: 7000,
    });
    server.fail({ status: 429 });
    await expect(collect(http(server.url('/p.img')).read(0, signal))).rejects.toMatchObject({
      transient: true,
    });
    server.fail({ status: 403 });
    await expect(collect(http(server.url('/p.img')).read(0, signal))).rejects.toMatchObject({
      reason: 'http-403',
      transient: false,
    });
  });

  it('reads Retry-After as delta-seconds or an HTTP-date, as far off as the server asks', async () => {
    // The transfer clamps these (transfer.test.ts); the source reports what was asked.
    server.fail({ status: 503, retryAfterS: 2_000_000 });
    await expect(collect(http(server.url('/p.img')).read(0, signal))).rejects.toMatchObject({
      retryAfterMs: 2_000_000_000,
    });
    server.fail({ status: 503, retryAfterS: new Date(Date.now() + 23 * 86_400_000).toUTCString() });
    const asked = await collect(http(server.url('/p.img')).read(0, signal)).catch((e: unknown) => e);
    expect((asked as InstallError).retryAfterMs).toBeGreaterThan(22 * 86_400_000);
  });

  it('gives up on a server that drips its header bytes, however often it keeps the socket busy', async () => {
    server.fail({ dripHeadersEveryMs: 20 });
    const started = performance.now();
    await expect(
      collect(http(server.url('/p.img'), { headerTimeoutMs: 300, idleTimeoutMs: 60_000 }).read(0, signal)),
    ).rejects.toMatchObject({ reason: 'header-timeout', transient: true });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses a server whose length disagrees with the manifest', async () => {
    await expect(
      collect(http(server.url('/p.img'), { sizeBytes: SIZE + 1 }).read(0, signal)),
    ).rejects.toMatchObject({
      reason: 'size-mismatch',
      transient: false,
    });
  });

  it('reports a connection closed before the declared length as transient truncation', async () => {
    server.fail({ dropAfterBytes: 50_000 });
    await expect(collect(http(server.url('/p.img')).read(0, signal))).rejects.toMatchObject({
      reason: 'truncated',
      transient: true,
    });
  });

  it('aborts a transfer slower than the low-speed limit', async () => {
    server.fail({ trickleBytes: 100, trickleDelayMs: 40 });
    await expect(
      collect(
        http(server.url('/p.img'), { lowSpeedBytesPerS: 10_000, lowSpeedWindowMs: 200 }).read(0, signal),
      ),
    ).rejects.toMatchObject({ reason: 'low-speed', transient: true });
  });

  it('follows redirects', async () => {
    const redirector = createServer((_, res) => res.writeHead(302, { location: server.url('/p.img') }).end());
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      const port = (redirector.address() as AddressInfo).port;
      const got = await collect(http(`http://127.0.0.1:${port}/latest`).read(190_000, signal));
      expect(got.equals(data.subarray(190_000))).toBe(true);
    } finally {
      redirector.close();
    }
  });

  it("sends its headers (an update server's token) to its own origin only, not after a redirect elsewhere", async () => {
    const seen: (string | undefined)[] = [];
    const redirector = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(302, { location: server.url('/p.img') }).end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      const port = (redirector.address() as AddressInfo).port;
      const source = http(`http://127.0.0.1:${port}/artifact`, {
        headers: { authorization: 'TargetToken t' },
      });
      const got = await collect(source.read(190_000, signal));
      expect(got.equals(data.subarray(190_000))).toBe(true);
      // The redirect target is the payload server (another port, so another origin): it saw no token.
      expect(seen).toEqual(['TargetToken t']);
      expect(server.requests.at(-1)).toMatchObject({ path: '/p.img', authorization: undefined });
    } finally {
      redirector.close();
    }
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    server.fail({ trickleBytes: 1000, trickleDelayMs: 20 });
    const reading = collect(http(server.url('/p.img')).read(0, controller.signal));
    setTimeout(() => controller.abort(new Error('stopping')), 50);
    await expect(reading).rejects.toThrow('stopping');
  });

  it('treats a refused connection as transient', async () => {
    await expect(collect(http('http://127.0.0.1:1/p.img').read(0, signal))).rejects.toMatchObject({
      transient: true,
    });
  });
});
