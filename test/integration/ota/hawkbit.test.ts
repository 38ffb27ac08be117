/**
 * The hawkBit DDI client against a DDI server written from hawkBit's published API
 * (test/support/ddi-server.ts), installing into a device with real image slots, the file boot backend
 * and the emulated bootloader (test/support/ota-test-device.ts). Each "restart" builds a new OTA
 * manager and client from the same state directory, as the agent does after a reboot; the client's
 * poll is stepped by the test (`pollOnce`), except where its timer and backoff are the subject.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { silentLogger } from '../../../agent/core/log.js';
import { createHawkbit } from '../../../agent/ota/hawkbit/create-hawkbit.js';
import type { HawkbitClient, HawkbitOta } from '../../../agent/ota/hawkbit/hawkbit-client.js';
import { hawkbitSchema } from '../../../agent/ota/hawkbit/hawkbit-schema.js';
import type { OtaManager, OtaStatus } from '../../../agent/ota/ota-manager.js';
import { ReportQueue } from '../../../agent/ota/report-queue.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { type DdiServer, startDdiServer } from '../../support/ddi-server.js';
import { FakeClock } from '../../support/fake-clock.js';
import { OtaTestDevice } from '../../support/ota-test-device.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-hawkbit-');
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const CONTROLLER = 'gw-0042';
const TOKEN = 'target-token-0042';

async function rig(options: { token?: string; clock?: FakeClock; random?: () => number } = {}) {
  const ddi = await startDdiServer({ pollingSleep: '00:00:00' });
  closers.push(() => ddi.close());
  ddi.addTarget(CONTROLLER, { targetToken: TOKEN });
  const dir = await tempDir();
  const config = hawkbitSchema.parse({
    url: ddi.url,
    tenant: ddi.tenant,
    controllerId: CONTROLLER,
    auth: { targetToken: options.token ?? TOKEN },
    pollMinS: 0.1,
    retry: { baseMs: 100, maxMs: 400 },
  });
  const parts = createHawkbit(config, {
    // A clock the test steps: the client's own poll timer never fires unless a test advances it.
    clock: options.clock ?? new FakeClock(),
    random: options.random,
    log: silentLogger(),
    otaStateDir: path.join(dir, 'state'),
    deviceId: CONTROLLER,
    board: 'sim',
    version: '0.1.0',
  });
  const device = await OtaTestDevice.create(dir, {
    managerDeps: { reportMirrors: [parts.reportMirror], downloadOptions: parts.downloadOptions },
  });
  /** The agent's start: a new manager and client on the same state. */
  const start = async (): Promise<{ ota: OtaManager; client: HawkbitClient }> => {
    const ota = device.manager();
    await ota.start();
    const client = parts.client(ota);
    await client.start();
    closers.push(() => ota.stop());
    closers.push(() => client.stop());
    return { ota, client };
  };
  return { ddi, device, start, parts, config };
}

function assignRelease(
  ddi: DdiServer,
  release: { file: string; manifest: Uint8Array },
  options: {
    type?: 'soft' | 'forced' | 'downloadonly';
    maintenanceWindow?: 'available' | 'unavailable';
  } = {},
): number {
  return ddi.assign(CONTROLLER, {
    chunks: [
      {
        name: 'rootfs',
        version: '1.1.0',
        part: 'os',
        artifacts: [
          { filename: 'rootfs.img', data: release.file },
          { filename: 'rootfs.img.cose', data: release.manifest },
        ],
      },
    ],
    ...options,
  });
}

const executions = (ddi: DdiServer, id: number) =>
  ddi
    .action(id)
    .feedback.map((f) => `${f.channel}:${f.body.status.execution}/${f.body.status.result.finished}`);

describe('hawkBit DDI client', () => {
  it('takes a deployment to closed/success only after the trial boot committed, with progress on the way', async () => {
    const { ddi, device, start } = await rig();
    const image = fakeImage('v1.1', 1024 * 1024);
    const release = await device.release(image, { seq: 2 });
    const id = assignRelease(ddi, release);

    let { ota, client } = await start();
    await client.pollOnce();
    expect(ddi.targets.get(CONTROLLER)!.attributes).toMatchObject({ deviceId: CONTROLLER, board: 'sim' });
    await ota.idle();
    expect(device.rebootRequests).toHaveLength(1);
    await client.pollOnce(); // forwards the `installed` report
    expect(ddi.action(id).state).toBe('open');
    const before = executions(ddi, id);
    expect(before[0]).toBe('deploymentBase:download/none');
    expect(before.filter((e) => e === 'deploymentBase:proceeding/none').length).toBeGreaterThan(2);
    const progress = ddi.action(id).feedback.flatMap((f) => f.body.status.result.progress ?? []);
    expect(progress.at(-1)).toEqual({ cnt: 100, of: 100 });

    expect(await device.reboot()).toBe('B');
    await ota.stop();
    ({ ota, client } = await start());
    // Polls while the trial is checked and committed (as the agent's timer does): whenever the
    // commit lands between them, the action is never taken a second time.
    while ((await ota.status()).install) await client.pollOnce();
    await ota.idle();
    await client.pollOnce();
    expect(ddi.action(id)).toMatchObject({ state: 'closed', result: 'success' });
    expect(executions(ddi, id).at(-1)).toBe('deploymentBase:closed/success');
    expect((await device.slotBytes('B'))!.subarray(0, image.length).equals(image)).toBe(true);

    // hawkBit no longer offers it; another poll changes nothing.
    await client.pollOnce();
    expect(executions(ddi, id).filter((e) => e.includes('closed'))).toHaveLength(1);
    const installedBase = () => ddi.requests.filter((r) => r.path.includes('/installedBase/')).length;
    expect(installedBase()).toBe(1);
    const attributesSent = ddi.targets.get(CONTROLLER)!.configData.length;

    // A device whose hawkBit state is damaged starts afresh (it still starts), learns from
    // installedBase that hawkBit lists an action it does not know, and sends its attributes again.
    await client.stop();
    await writeFile(path.join(device.dir, 'state/hawkbit/actions.json'), '{"finished": [');
    ({ ota, client } = await start());
    await client.pollOnce();
    expect(installedBase()).toBe(2);
    expect(ddi.targets.get(CONTROLLER)!.configData.length).toBe(attributesSent + 1);
  });

  it('never takes an action again that concluded while it was being polled (its report queued, its install gone)', async () => {
    const { ddi, device, parts } = await rig();
    const release = await device.release(fakeImage('v1.1', 64 * 1024), { seq: 2 });
    const id = assignRelease(ddi, release);
    const asked: string[] = [];
    // An OTA manager whose install of this action concludes just as the client asks for it: the
    // final report is queued first, then the install is gone — the manager's order.
    const concluding: HawkbitOta = {
      status: async () => {
        await new ReportQueue(parts.reportMirror).put({
          id: 'rootfs-2-0.committed',
          installId: 'rootfs-2-0',
          state: 'committed',
          component: 'rootfs',
          version: '1.1.0',
          seq: 2,
          targetSlot: 'B',
          bootedSlot: 'B',
          actionId: String(id),
          wallMs: 0,
        });
        return { install: undefined, components: [] } as unknown as OtaStatus;
      },
      preview: async () => {
        asked.push('preview');
        return { ok: false, code: 'replayed-seq', reason: 'seq 2 is not above the committed seq 2' };
      },
      install: async () => {
        asked.push('install');
        return { ok: false, code: 'x', reason: 'x' };
      },
      activate: async () => asked.push('activate'),
      cancelUnstarted: async () => ({ cancelled: 'x', reboot: false }),
      on: () => undefined,
      off: () => undefined,
    };
    const client = parts.client(concluding);
    await client.pollOnce();
    expect(asked).toEqual([]);
    expect(ddi.action(id)).toMatchObject({ state: 'closed', result: 'success' });
  });

  it('refuses an action whose manifest is not signed by the trust root, with closed/failure naming the reason', async () => {
    const { ddi, device, start } = await rig();
    const release = await device.release(
      fakeImage('evil', 256 * 1024),
      { seq: 2 },
      { keys: [generateKeyPair()] },
    );
    const id = assignRelease(ddi, release);
    const { ota, client } = await start();
    await client.pollOnce();
    await ota.idle();
    expect(ddi.action(id)).toMatchObject({ state: 'closed', result: 'failure' });
    const details = ddi.action(id).feedback.at(-1)!.body.status.details!.join(' ');
    expect(details).toMatch(/^unknown-key: signed by 1 key\(s\) not in the trusted set/);
    expect(device.rebootRequests).toEqual([]);
    expect(ddi.downloads.filter((d) => d.path.endsWith('/rootfs.img'))).toEqual([]); // the payload was never fetched
  });

  it('refuses an action without a signed manifest beside its payload', async () => {
    const { ddi, device, start } = await rig();
    const release = await device.release(fakeImage('v', 64 * 1024), { seq: 2 });
    const id = ddi.assign(CONTROLLER, {
      chunks: [
        {
          name: 'rootfs',
          version: '1',
          part: 'os',
          artifacts: [{ filename: 'rootfs.img', data: release.file }],
        },
      ],
    });
    const { client } = await start();
    await client.pollOnce();
    expect(ddi.action(id)).toMatchObject({ state: 'closed', result: 'failure' });
    expect(ddi.action(id).feedback.at(-1)!.body.status.details!.join(' ')).toContain(
      'no-manifest: no signed manifest beside rootfs.img (expected rootfs.img.cose',
    );
  });

  it('resumes a download cut by a power loss and reports the outcome once', async () => {
    const { ddi, device, start } = await rig();
    const release = await device.release(fakeImage('v1.1', 4 * 1024 * 1024), { seq: 2 });
    const id = assignRelease(ddi, release);
    let { ota, client } = await start();
    // Power cut while the slot is being written: the flow stops at its next safe point, where the
    // journal has it.
    let cut: Promise<void> | undefined;
    ota.on('progress', (p) => {
      if (p.bytes >= 2 * 1024 * 1024) cut ??= ota.stop();
    });
    await client.pollOnce();
    await until(() => cut !== undefined, 'two MiB written', 10_000);
    await cut;
    await client.stop();
    expect((await ota.status()).install).toMatchObject({ phase: 'writing' });
    expect(device.rebootRequests).toEqual([]);
    ({ ota, client } = await start());
    await ota.idle();
    expect(device.rebootRequests).toHaveLength(1);
    // Resumed, not restarted: one download from byte 0, any later one from where the slot stopped.
    const payload = ddi.downloads.filter((d) => d.path.endsWith('/rootfs.img'));
    expect(payload.filter((d) => d.range === undefined || d.range === 'bytes=0-')).toHaveLength(1);
    expect(payload.slice(1).every((d) => Number(/^bytes=(\d+)-/.exec(d.range ?? '')?.[1]) > 0)).toBe(true);
    await client.pollOnce(); // the action is ours already: not taken twice
    expect(await device.reboot()).toBe('B');
    await ota.stop();
    ({ ota, client } = await start());
    await ota.idle();
    await client.pollOnce();
    expect(ddi.action(id)).toMatchObject({ state: 'closed', result: 'success' });
    const e = executions(ddi, id);
    expect(e.filter((x) => x.startsWith('deploymentBase:closed'))).toHaveLength(1);
    expect(e.filter((x) => x === 'deploymentBase:download/none')).toHaveLength(1);
  });

  it('takes a cancel before the slot is written, and refuses one once the install is armed', async () => {
    const { ddi, device, start } = await rig();
    const first = await device.release(fakeImage('v1.1', 256 * 1024), { seq: 2 });
    const cancelled = assignRelease(ddi, first);
    ddi.cancel(cancelled);
    const { ota, client } = await start();
    await client.pollOnce();
    expect(ddi.action(cancelled).state).toBe('canceled');
    expect(executions(ddi, cancelled)).toEqual(['cancelAction:closed/success']);
    expect((await ota.status()).install).toBeUndefined();

    const second = await device.release(fakeImage('v1.2', 256 * 1024), { seq: 3 });
    const running = assignRelease(ddi, second);
    await client.pollOnce();
    await ota.idle(); // written, armed, reboot asked for
    ddi.cancel(running);
    await client.pollOnce();
    const answer = ddi.action(running).feedback.find((f) => f.channel === 'cancelAction')!;
    expect(answer.body.status.execution).toBe('rejected');
    expect(answer.body.status.details!.join(' ')).toContain('can no longer be cancelled');
    expect(ddi.action(running).state).toBe('open'); // hawkBit runs the action again
  });

  it('downloads at once and installs only when the maintenance window opens', async () => {
    const { ddi, device, start } = await rig();
    const release = await device.release(fakeImage('v1.1', 512 * 1024), { seq: 2 });
    const id = assignRelease(ddi, release, { maintenanceWindow: 'unavailable' });
    const { ota, client } = await start();
    await client.pollOnce();
    await ota.idle();
    expect(device.rebootRequests).toEqual([]);
    const held = (await ota.status()).install!;
    expect(held).toMatchObject({ phase: 'written', holdArm: true, actionId: String(id) });
    expect((await device.env()).get('BOOT_ORDER')).toBe('A'); // the boot untouched
    await until(() => executions(ddi, id).includes('deploymentBase:downloaded/none'), 'downloaded feedback');

    await client.pollOnce(); // still outside the window: nothing happens
    expect(device.rebootRequests).toEqual([]);
    ddi.setMaintenanceWindow(id, 'available');
    await client.pollOnce();
    expect(device.rebootRequests).toHaveLength(1);
    expect((await device.env()).get('BOOT_ORDER')).toMatch(/^B/);
  });

  it('writes a download-only action into the inactive slot and stops there: downloaded, the boot untouched', async () => {
    const { ddi, device, start } = await rig();
    const release = await device.release(fakeImage('v1.1', 256 * 1024), { seq: 2 });
    const id = assignRelease(ddi, release, { type: 'downloadonly' });
    const { ota, client } = await start();
    await client.pollOnce();
    await ota.idle();
    await until(() => executions(ddi, id).includes('deploymentBase:downloaded/none'), 'downloaded feedback');
    expect(ddi.action(id)).toMatchObject({ state: 'closed', result: 'downloaded' });
    expect((await ota.status()).install).toMatchObject({ phase: 'written', holdArm: true });
    expect(device.rebootRequests).toEqual([]);
    expect((await device.env()).get('BOOT_ORDER')).toBe('A');
  });

  it('backs off after 401 and 5xx, doubling up to retry.maxMs, and polls normally once answered', async () => {
    const clock = new FakeClock();
    const refused = await rig({ token: 'wrong', clock, random: () => 1 });
    const ota = refused.device.manager();
    const client = refused.parts.client(ota);
    closers.push(() => client.stop());
    await client.start();
    const polls = () => refused.ddi.requests.filter((r) => r.path.endsWith(`/controller/v1/${CONTROLLER}`));
    // random() = 1: each wait is the whole ceiling — 100, 200, 400, then 400 ms (retry.maxMs). Each
    // step waits for the poll to have *finished* (a new lastPoll: the next timer is set by then).
    for (const gap of [0, 100, 200, 400, 400]) {
      const seen = polls().length;
      const before = client.lastPoll;
      if (gap > 0) await clock.advance(gap - 1);
      expect(polls()).toHaveLength(seen);
      await clock.advance(1);
      await until(() => client.lastPoll !== before, 'a refused poll', 10_000);
      expect(polls()).toHaveLength(seen + 1);
      expect(client.lastPoll?.ok).toBe(false);
    }
    expect(client.lastPoll?.error).toMatch(
      /hawkBit answered 401 to the controller base \(check ota\.hawkbit\.auth/,
    );
    expect(polls().every((r) => r.status === 401)).toBe(true);
    await client.stop();

    const server = await rig({ clock, random: () => 1 });
    server.ddi.failNext(2, 503);
    const ota2 = server.device.manager();
    const recovering = server.parts.client(ota2);
    closers.push(() => recovering.stop());
    await recovering.start();
    const served = () => server.ddi.requests.filter((r) => r.path.endsWith(`/controller/v1/${CONTROLLER}`));
    for (const gap of [0, 100, 200, 100]) {
      const before = recovering.lastPoll;
      await clock.advance(gap);
      await until(() => recovering.lastPoll !== before, 'a poll', 10_000);
    }
    expect(served().map((r) => r.status)).toEqual([503, 503, 200, 200]);
    expect(recovering.lastPoll?.ok).toBe(true);
  });

  it('keeps feedback across a server restart and delivers it in order once the server is back', async () => {
    const { ddi, device, start } = await rig();
    const release = await device.release(
      fakeImage('bad', 64 * 1024),
      { seq: 2 },
      { keys: [generateKeyPair()] },
    );
    const id = assignRelease(ddi, release);
    const { client } = await start();
    ddi.failNext(1, 503, { path: /feedback/ });
    await expect(client.pollOnce()).rejects.toThrow(/503 to the feedback/);
    expect(ddi.action(id).state).toBe('open');
    ddi.stop();
    await expect(client.pollOnce()).rejects.toThrow(/ECONNREFUSED|connect/);
    await ddi.restart();
    await client.pollOnce();
    expect(ddi.action(id)).toMatchObject({ state: 'closed', result: 'failure' });
  });
});
