/**
 * The OTA manager in one process on a file-backed boot environment: the install flow with its events,
 * single-flight, resuming after a stop, the technician's commit and rollback, a failed health check,
 * a directory (tar) slot, and a damaged journal.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create as createTar } from 'tar';
import { describe, expect, it } from 'vitest';
import type { BootBackend } from '../../../agent/ota/boot/types.js';
import { InstallError } from '../../../agent/ota/install-errors.js';
import type { OtaProgress } from '../../../agent/ota/installer.js';
import type { OtaManager } from '../../../agent/ota/ota-manager.js';
import type { OtaReport } from '../../../agent/ota/report-queue.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { OtaTestDevice } from '../../support/ota-test-device.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-manager-');
const SIZE = 512 * 1024;

async function started(device: OtaTestDevice): Promise<OtaManager> {
  const ota = device.manager();
  await ota.start();
  await ota.idle();
  return ota;
}

/** A device with one health check that keeps failing, where version 2.0.0 is installed and armed. */
async function armed(check: { name: string; detail: string }, deadlineMs: number): Promise<OtaTestDevice> {
  const device = await OtaTestDevice.create(await newDir(), {
    imageBytes: SIZE,
    checks: [{ name: check.name, check: async () => ({ ok: false, detail: check.detail }) }],
    deadlineMs,
  });
  const rel = await device.release(fakeImage('2.0.0', SIZE), { seq: 3 });
  const ota = await started(device);
  await ota.install({ manifest: rel.manifest, file: rel.file });
  await ota.idle();
  return device;
}

describe('the OTA manager', () => {
  it('installs, asks for the reboot, and commits after the trial boot, with progress and reports', async () => {
    const device = await OtaTestDevice.create(await newDir(), { imageBytes: SIZE });
    const image = fakeImage('2.0.0', SIZE);
    const rel = await device.release(image, { seq: 3 });
    let ota = await started(device);
    const progress: OtaProgress[] = [];
    const reports: OtaReport[] = [];
    ota.on('progress', (p) => progress.push(p));
    ota.on('report', (r) => reports.push(r));
    const result = await ota.install({ manifest: rel.manifest, file: rel.file });
    expect(result).toMatchObject({ ok: true, component: 'rootfs', version: '1.3.0', seq: 3, target: 'B' });
    await ota.idle();
    expect(device.rebootRequests).toEqual([[]]);
    const writes = progress.filter((p) => p.phase === 'writing').map((p) => p.bytes);
    expect(writes[0]).toBe(0);
    expect(writes.at(-1)).toBe(SIZE);
    expect(progress.map((p) => p.phase)).toContain('armed');
    expect(reports.map((r) => r.state)).toEqual(['installed']);
    expect((await ota.status()).rebootPending).toBe(true);
    await expect(ota.install({ manifest: rel.manifest, file: rel.file })).rejects.toMatchObject({
      code: 'EBUSY',
    });

    expect(await device.reboot()).toBe('B');
    ota = await started(device);
    const status = await ota.status();
    expect(status.install).toBeUndefined();
    expect(status.components[0]).toMatchObject({
      booted: 'B',
      primary: 'B',
      committed: { seq: 3, slot: 'B' },
    });
    expect((await ota.reports.pending()).map((r) => r.state)).toEqual(['installed', 'committed']);
    expect(await device.slotBytes('B')).toEqual(image);
  });

  it('with readBack: page-cache, reads the slot back through the page cache and installs the same', async () => {
    const device = await OtaTestDevice.create(await newDir(), {
      imageBytes: SIZE,
      settings: { readBack: 'page-cache' },
    });
    const image = fakeImage('2.0.0', SIZE);
    const rel = await device.release(image, { seq: 3 });
    const ota = await started(device);
    await expect(ota.install({ manifest: rel.manifest, file: rel.file })).resolves.toMatchObject({
      ok: true,
    });
    await ota.idle();
    expect((await ota.status()).install?.phase).toBe('armed');
    expect(await device.slotBytes('B')).toEqual(image);
  });

  it('runs one install at a time', async () => {
    const device = await OtaTestDevice.create(await newDir(), { imageBytes: SIZE });
    const rel = await device.release(fakeImage('2.0.0', SIZE), { seq: 3 });
    const ota = await started(device);
    const first = ota.install({ manifest: rel.manifest, file: rel.file });
    await expect(ota.install({ manifest: rel.manifest, file: rel.file })).rejects.toMatchObject({
      code: 'EBUSY',
    });
    expect(await first).toMatchObject({ ok: true });
    await ota.idle();
  });

  it('resumes a write stopped halfway from its journaled offset', async () => {
    const device = await OtaTestDevice.create(await newDir(), { imageBytes: SIZE });
    const image = fakeImage('2.0.0', SIZE);
    const rel = await device.release(image, { seq: 3 });
    const first = await started(device);
    let stopping: Promise<void> | undefined;
    first.on('progress', (p) => {
      if (p.phase === 'writing' && p.bytes >= 4 * 65_536) stopping ??= first.stop();
    });
    await first.install({ manifest: rel.manifest, file: rel.file });
    await first.idle();
    await stopping;
    const stoppedAt = (await first.status()).install;
    expect(stoppedAt).toMatchObject({ phase: 'writing' });
    expect(stoppedAt!.offsetBytes).toBeGreaterThanOrEqual(4 * 65_536);

    const second = device.manager();
    const resumedFrom: number[] = [];
    second.on('progress', (p) => resumedFrom.push(p.bytes));
    await second.start();
    await second.idle();
    // From the journaled offset, or beyond it: chunks written after the last journal entry verify.
    expect(resumedFrom[0]).toBeGreaterThanOrEqual(stoppedAt!.offsetBytes);
    // Writes run ahead of the journal (syncs do not hold them), so the units written before the stop
    // took effect may be all of them: then the resume verifies them and has nothing left to fetch.
    expect(resumedFrom[0]! % 65_536).toBe(0);
    expect(resumedFrom[0]).toBeLessThanOrEqual(SIZE);
    expect((await second.status()).install).toMatchObject({ phase: 'armed' });
    expect(await device.slotBytes('B')).toEqual(image);
  });

  it("commits on the technician's word while the health checks still wait", async () => {
    const device = await armed({ name: 'link', detail: 'broker unreachable' }, 60_000);
    await device.reboot();
    const trial = device.manager();
    await trial.start();
    await expect(trial.commit()).resolves.toMatchObject({ committed: expect.any(String) });
    expect((await trial.reports.pending()).at(-1)).toMatchObject({ state: 'committed', bootedSlot: 'B' });
  });

  it('rolls a failed health check back to the old slot and says why', async () => {
    const device = await armed({ name: 'points', detail: 'chamber.temp is fault' }, 50);
    expect(await device.reboot()).toBe('B');
    const trial = await started(device);
    expect(device.rebootRequests).toHaveLength(2);
    expect((await trial.status()).install).toMatchObject({ phase: 'fell-back', reason: 'unhealthy' });
    expect(await device.reboot()).toBe('A');
    const back = await started(device);
    const last = (await back.reports.pending()).at(-1);
    expect(last).toMatchObject({
      state: 'rolled-back',
      reason: 'unhealthy',
      bootedSlot: 'A',
      message: 'points: chamber.temp is fault',
    });
    expect((await device.env()).get('BOOT_ORDER')).toBe('A');
  });

  it("rolls back on the technician's word, in a trial or to the other good slot", async () => {
    const device = await armed({ name: 'slow', detail: 'waiting' }, 60_000);
    await device.reboot();
    const trial = device.manager();
    await trial.start();
    await expect(trial.rollback('console:tech')).resolves.toMatchObject({ reboot: true });
    expect(await device.reboot()).toBe('A');
    const back = await started(device);
    expect((await back.reports.pending()).at(-1)).toMatchObject({
      state: 'rolled-back',
      reason: 'manual-rollback',
    });
    // B was never confirmed, so there is nothing to switch to now.
    await expect(back.rollback('console:tech')).rejects.toMatchObject({
      code: 'ESTATE',
      reason: 'no-fallback',
    });
  });

  it('installs a tar bundle into a directory slot and verifies every file', async () => {
    const device = await OtaTestDevice.create(await newDir(), { slotKind: 'dir' });
    const src = path.join(device.dir, 'bundle');
    await mkdir(path.join(src, 'dist'), { recursive: true });
    await writeFile(path.join(src, 'VERSION'), '0.4.0\n');
    await writeFile(path.join(src, 'dist/cli.js'), 'console.log("hi")\n');
    const tarFile = path.join(device.dir, 'bundle.tar');
    await createTar({ file: tarFile, cwd: src }, ['VERSION', 'dist']);
    const rel = await device.release(
      await readFile(tarFile),
      { seq: 4, format: 'tar' },
      { chunkBytes: null },
    );
    const ota = await started(device);
    expect(await ota.install({ manifest: rel.manifest, file: rel.file })).toMatchObject({ ok: true });
    await ota.idle();
    expect((await ota.status()).install).toMatchObject({ phase: 'armed' });
    expect(await readFile(path.join(device.slots.B, 'dist/cli.js'), 'utf8')).toBe('console.log("hi")\n');
    expect(await device.reboot()).toBe('B');
    const trial = await started(device);
    expect((await trial.reports.pending()).at(-1)).toMatchObject({ state: 'committed' });
  });

  it('rejects an install whose arming did not read back, leaving the target unbootable', async () => {
    const device = await OtaTestDevice.create(await newDir(), {
      imageBytes: SIZE,
      wrapBoot: (b): BootBackend => ({
        kind: b.kind,
        getPrimary: () => b.getPrimary(),
        getState: (slot) => b.getState(slot),
        setState: (slot, state) => b.setState(slot, state),
        getCurrent: () => b.getCurrent(),
        rebootArgs: () => b.rebootArgs(),
        inspect: () => b.inspect(),
        setPrimary: async (slot) => {
          await b.setPrimary(slot); // the write lands …
          throw new InstallError('EBOOT_READBACK', 'boot-env-readback', 'BOOT_ORDER did not read back');
        },
      }),
    });
    const rel = await device.release(fakeImage('2.0.0', SIZE), { seq: 3 });
    const ota = await started(device);
    await ota.install({ manifest: rel.manifest, file: rel.file });
    await ota.idle();
    expect((await ota.reports.pending()).at(-1)).toMatchObject({
      state: 'rejected',
      reason: 'boot-env-readback',
    });
    expect((await device.env()).get('BOOT_ORDER')).toBe('A'); // … but B is out of the order again
    expect(device.rebootRequests).toEqual([]);
    expect(await device.reboot()).toBe('A');
  });

  it('abandons a damaged journal at start and keeps the device as it was', async () => {
    const device = await OtaTestDevice.create(await newDir(), { imageBytes: SIZE });
    await mkdir(path.join(device.dir, 'state'), { recursive: true });
    await writeFile(path.join(device.dir, 'state/install.json'), '{"v":1,"id":');
    const ota = await started(device);
    expect((await ota.status()).install).toBeUndefined();
    expect(await device.reboot()).toBe('A');
  });
});
