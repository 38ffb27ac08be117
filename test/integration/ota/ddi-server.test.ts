import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DdiServer, startDdiServer } from '../../support/ddi-server.js';
import type { DdiCancel, DdiControllerBase, DdiDeploymentBase } from '../../support/ddi-types.js';

// The test DDI server, driven with plain fetch as a device would drive hawkBit.

const IMAGE = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
const TOKEN = 'target-secret';
let ddi: DdiServer;

beforeEach(async () => {
  ddi = await startDdiServer({ tenant: 'acme' });
  ddi.addTarget('gw-1', { targetToken: TOKEN });
});
afterEach(() => ddi.close());

function device(pathOrUrl: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${ddi.controllerUrl('gw-1')}${pathOrUrl}`;
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `TargetToken ${TOKEN}`);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  return fetch(url, { ...init, headers, body });
}

async function poll(): Promise<DdiControllerBase> {
  const res = await device('');
  expect(res.status).toBe(200);
  return (await res.json()) as DdiControllerBase;
}

const feedback = (execution: string, finished: string, details?: string[]) => ({
  timestamp: 1733218554123,
  status: { execution, result: { finished }, ...(details ? { details } : {}) },
});

function assignImage(opts: { type?: 'soft' | 'forced' | 'downloadonly' } = {}): number {
  const chunks = [
    { name: 'os', version: '1.2.0', part: 'os', artifacts: [{ filename: 'image.bin', data: IMAGE }] },
  ];
  return ddi.assign('gw-1', { chunks, ...opts });
}

describe('the DDI test server', () => {
  it('links configData on first contact and a new deployment with ?c=, absolute and as HAL', async () => {
    const first = await device('');
    expect(first.headers.get('content-type')).toBe('application/hal+json');
    const base = (await first.json()) as DdiControllerBase;
    expect(base).toEqual({
      config: { polling: { sleep: '00:00:01' } },
      _links: { configData: { href: `${ddi.url}/acme/controller/v1/gw-1/configData` } },
    });
    const id = assignImage({ type: 'soft' });
    const href = (await poll())._links?.deploymentBase?.href ?? '';
    expect(href).toMatch(new RegExp(`^${ddi.url}/acme/controller/v1/gw-1/deploymentBase/${id}\\?c=-?\\d+$`));
    const res = await device(href, { headers: { accept: 'application/json' } });
    expect(res.headers.get('content-type')).toBe('application/json');
    const deployment = (await res.json()) as DdiDeploymentBase;
    expect(deployment.id).toBe(String(id));
    expect(deployment.deployment).toMatchObject({ download: 'attempt', update: 'attempt' });
    const [artifact] = deployment.deployment.chunks[0]?.artifacts ?? [];
    expect(artifact).toMatchObject({
      filename: 'image.bin',
      size: IMAGE.length,
      hashes: {
        sha1: createHash('sha1').update(IMAGE).digest('hex'),
        md5: createHash('md5').update(IMAGE).digest('hex'),
        sha256: createHash('sha256').update(IMAGE).digest('hex'),
      },
    });
    expect(Object.keys(artifact?._links ?? {}).sort()).toEqual([
      'download',
      'download-http',
      'md5sum',
      'md5sum-http',
    ]);
  });

  it('serves artifacts with Range (206, 416), an MD5SUM, and resumes after a dropped connection', async () => {
    assignImage();
    const deployment = (await (
      await device((await poll())._links?.deploymentBase?.href ?? '')
    ).json()) as DdiDeploymentBase;
    const links = deployment.deployment.chunks[0]?.artifacts[0]?._links;
    const href = links?.['download-http']?.href ?? '';
    expect(href).toMatch(/\/acme\/controller\/v1\/gw-1\/softwaremodules\/\d+\/artifacts\/image\.bin$/);

    const full = await device(href);
    expect([full.status, full.headers.get('content-range')]).toEqual([200, `bytes 0-4999/5000`]);
    expect(Buffer.from(await full.arrayBuffer()).equals(IMAGE)).toBe(true);

    const tail = await device(href, { headers: { range: 'bytes=4000-' } });
    expect([tail.status, tail.headers.get('content-range')]).toEqual([206, 'bytes 4000-4999/5000']);
    expect(Buffer.from(await tail.arrayBuffer()).equals(IMAGE.subarray(4000))).toBe(true);
    const past = await device(href, { headers: { range: 'bytes=5000-' } });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, 'bytes */5000']);

    const md5 = await device(links?.['md5sum-http']?.href ?? '');
    expect(await md5.text()).toBe(`${createHash('md5').update(IMAGE).digest('hex')}  image.bin`);

    ddi.dropDownloadAfter(1234);
    const cut = await device(href);
    await expect(cut.arrayBuffer()).rejects.toThrow();
    const rest = await device(href, { headers: { range: 'bytes=1234-' } });
    expect(Buffer.from(await rest.arrayBuffer()).equals(IMAGE.subarray(1234))).toBe(true);
    expect(ddi.downloads.map((d) => [d.range, d.status, d.bytes])).toEqual([
      [undefined, 200, 5000],
      ['bytes=4000-', 206, 1000],
      ['bytes=5000-', 416, 0],
      [undefined, 200, 32 + 2 + 'image.bin'.length],
      [undefined, 200, 1234],
      ['bytes=1234-', 206, 3766],
    ]);
  });

  it('refuses malformed feedback as hawkBit does and closes the action on closed + success', async () => {
    const id = assignImage();
    await device('/configData', { method: 'PUT', json: { data: { hw: '2' } } });
    const url = `/deploymentBase/${id}/feedback`;
    const bad = await device(url, { method: 'POST', json: feedback('finished', 'success') });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ errorCode: 'hawkbit.server.error.rest.body.notReadable' });
    expect(ddi.requests.at(-1)?.reason).toBe('status.execution finished');
    const noProgressCount = {
      status: { execution: 'proceeding', result: { finished: 'none', progress: { of: 3 } } },
    };
    expect((await device(url, { method: 'POST', json: noProgressCount })).status).toBe(400);
    const textPlain = await device(url, {
      method: 'POST',
      body: JSON.stringify(feedback('proceeding', 'none')),
    });
    expect(textPlain.status).toBe(415);
    expect(
      (await device('/deploymentBase/999/feedback', { method: 'POST', json: feedback('closed', 'success') }))
        .status,
    ).toBe(404);

    expect(
      (await device(url, { method: 'POST', json: feedback('proceeding', 'none', ['Downloading']) })).status,
    ).toBe(200);
    expect((await device(url, { method: 'POST', json: feedback('rejected', 'none') })).status).toBe(200);
    expect(ddi.action(id).state).toBe('open');
    expect(
      (await device(url, { method: 'POST', json: feedback('closed', 'success', ['Installed']) })).status,
    ).toBe(200);
    expect([ddi.action(id).state, ddi.action(id).result]).toEqual(['closed', 'success']);
    expect((await device(url, { method: 'POST', json: feedback('closed', 'failure') })).status).toBe(410);
    expect(ddi.action(id).feedback.map((f) => f.body.status.execution)).toEqual([
      'proceeding',
      'rejected',
      'closed',
    ]);

    const base = await poll();
    expect(base._links?.deploymentBase).toBeUndefined();
    expect(base._links?.installedBase?.href).toBe(`${ddi.url}/acme/controller/v1/gw-1/installedBase/${id}`);
    expect(base._links?.configData).toBeDefined(); // asked for again after a success
    const installed = (await (
      await device(`/installedBase/${id}?actionHistory=2`)
    ).json()) as DdiDeploymentBase;
    expect(installed.actionHistory).toEqual({
      status: 'FINISHED',
      messages: ['Installed', 'Update Server: Target reported rejected.'],
    });
  });

  it('runs the cancel flow: cancelAction instead of deploymentBase, closed + success confirms', async () => {
    const id = assignImage();
    ddi.cancel(id);
    const base = await poll();
    expect(base._links?.deploymentBase).toBeUndefined();
    const cancel = (await (await device(base._links?.cancelAction?.href ?? '')).json()) as DdiCancel;
    expect(cancel).toEqual({ id: String(id), cancelAction: { stopId: String(id) } });
    expect((await device(`/deploymentBase/${id}`)).status).toBe(404);

    const url = `/cancelAction/${id}/feedback`;
    const say = (body: unknown) => device(url, { method: 'POST', json: body });
    expect((await say(feedback('canceled', 'success'))).status).toBe(200); // a warning in hawkBit
    expect(ddi.action(id).state).toBe('canceling');
    expect((await say(feedback('rejected', 'none'))).status).toBe(200);
    expect(ddi.action(id).state).toBe('open');
    expect((await say(feedback('closed', 'success'))).status).toBe(405); // not being canceled now

    ddi.cancel(id);
    expect((await say(feedback('closed', 'success'))).status).toBe(200);
    expect(ddi.action(id).state).toBe('canceled');
    expect((await poll())._links?.cancelAction).toBeUndefined();
    const late = await device(`/deploymentBase/${id}/feedback`, {
      method: 'POST',
      json: feedback('closed', 'success'),
    });
    expect(late.status).toBe(410);
  });

  it('cancels the open action when another is assigned, and offers the new one after', async () => {
    const old = assignImage();
    const next = assignImage();
    expect((await poll())._links?.cancelAction?.href).toMatch(new RegExp(`/cancelAction/${old}$`));
    await device(`/cancelAction/${old}/feedback`, { method: 'POST', json: feedback('closed', 'success') });
    expect((await poll())._links?.deploymentBase?.href).toMatch(new RegExp(`/deploymentBase/${next}\\?c=`));
  });

  it('skips the update while the maintenance window is unavailable, and changes ?c= when it opens', async () => {
    const id = ddi.assign('gw-1', {
      chunks: [{ name: 'os', version: '2', part: 'os', artifacts: [] }],
      maintenanceWindow: 'unavailable',
    });
    const closedHref = (await poll())._links?.deploymentBase?.href;
    const waiting = (await (await device(closedHref ?? '')).json()) as DdiDeploymentBase;
    expect(waiting.deployment).toMatchObject({
      download: 'forced',
      update: 'skip',
      maintenanceWindow: 'unavailable',
    });
    ddi.setMaintenanceWindow(id, 'available');
    const openHref = (await poll())._links?.deploymentBase?.href;
    expect(openHref).not.toBe(closedHref);
    const ready = (await (await device(openHref ?? '')).json()) as DdiDeploymentBase;
    expect(ready.deployment).toMatchObject({ update: 'forced', maintenanceWindow: 'available' });
  });

  it('answers 401 without the right TargetToken or GatewayToken, and a gateway may bring new targets', async () => {
    expect((await fetch(ddi.controllerUrl('gw-1'))).status).toBe(401);
    expect((await device('', { headers: { authorization: 'TargetToken wrong' } })).status).toBe(401);
    expect((await device('', { headers: { authorization: `targettoken ${TOKEN}` } })).status).toBe(401);
    expect((await device('', { headers: { authorization: 'GatewayToken gw' } })).status).toBe(401);
    ddi.setGatewayToken('gw');
    const other = await device(ddi.controllerUrl('sensor-7'), {
      headers: { authorization: 'GatewayToken gw' },
    });
    expect(other.status).toBe(200);
    expect(ddi.targets.has('sensor-7')).toBe(true);
  });

  it('records configData by mode and stops asking for it', async () => {
    const put = (json: unknown) => device('/configData', { method: 'PUT', json });
    expect((await put({ data: {} })).status).toBe(400);
    expect((await put({ mode: 'merge', data: { hw: '2', mac: 'aa' } })).status).toBe(200);
    expect((await put({ mode: 'remove', data: { mac: '' } })).status).toBe(200);
    expect((await put({ data: { serial: 'X1' } })).status).toBe(200);
    expect(ddi.targets.get('gw-1')?.attributes).toEqual({ hw: '2', serial: 'X1' });
    expect(ddi.targets.get('gw-1')?.configData).toHaveLength(3);
    expect((await poll())._links?.configData).toBeUndefined();
    ddi.requestConfigData('gw-1');
    expect((await poll())._links?.configData).toBeDefined();
  });

  it('keeps every action and target across a restart on the same port', async () => {
    const id = assignImage();
    const url = ddi.url;
    await ddi.stop();
    await expect(device('')).rejects.toThrow();
    await ddi.restart();
    expect(ddi.url).toBe(url);
    expect((await poll())._links?.deploymentBase?.href).toContain(`/deploymentBase/${id}?c=`);
  });

  it('fails the next requests on demand, by path, and records what it answered', async () => {
    ddi.failNext(2, 503, { path: /\/gw-1$/, retryAfterS: 3 });
    const first = await device('');
    expect([first.status, first.headers.get('retry-after')]).toEqual([503, '3']);
    expect((await device('/configData', { method: 'PUT', json: { data: { a: 'b' } } })).status).toBe(200);
    expect((await device('')).status).toBe(503);
    expect((await device('')).status).toBe(200);
    await ddi.waitFor(() => ddi.requests.every((r) => r.status !== 0), 1000, 'every response to end');
    expect(ddi.requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      'GET 503',
      'PUT 200',
      'GET 503',
      'GET 200',
    ]);
    expect(ddi.requests[0]?.headers.authorization).toBe(`TargetToken ${TOKEN}`);
  });
});
