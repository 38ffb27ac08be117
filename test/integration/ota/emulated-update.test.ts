/**
 * The whole A/B cycle on an emulated device: the installer process accepts a signed update, streams it
 * into slot B (from a file or a loopback HTTP server), arms a trial, reboots through the emulated
 * bootloader (boards/uboot-ab.script's rules over a real redundant U-Boot environment, written by the
 * real fw_setenv), passes its health checks and commits — or fails them and comes back to slot A.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { PayloadServer } from '../../support/payload-server.js';
import { SimOtaDevice, sha256Hex } from '../../support/sim-ota-device.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-emu-');
const SIZE = 1 << 20;

describeWithTools(['fw_printenv', 'fw_setenv'], 'an emulated device updating its rootfs', () => {
  const server = new PayloadServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it('installs a local file, reboots into B on trial, passes its checks and commits', async () => {
    const device = await SimOtaDevice.create(await newDir(), { imageBytes: SIZE });
    const image = fakeImage('1.1.0', SIZE);
    const rel = await device.release(image, { version: '1.1.0', seq: 2 });
    const { slot, boots } = await device.settle(['--install', rel.payload, '--manifest', rel.manifest]);
    expect(slot).toBe('B');
    expect(boots).toBe(2);
    expect(await device.slotDigest('B', SIZE)).toBe(sha256Hex(image));
    const env = device.printenv();
    expect(env.get('BOOT_ORDER')).toBe('B A');
    expect(env.get('BOOT_B_LEFT')).toBe('3');
    const reports = await device.reports();
    expect(reports.map((r) => r.state)).toEqual(['installed', 'committed']);
    expect(reports[1]).toMatchObject({ version: '1.1.0', seq: 2, targetSlot: 'B', bootedSlot: 'B' });
  });

  it('downloads the payload over HTTP with Range resume after dropped connections', async () => {
    const device = await SimOtaDevice.create(await newDir(), { imageBytes: SIZE });
    const image = fakeImage('1.2.0', SIZE);
    server.serve('/rootfs-1.2.0.img', image);
    server.fail({ dropAfterBytes: 300_000 }, { status: 503, retryAfterS: 0 }, { dropAfterBytes: 200_000 });
    const rel = await device.release(image, {
      version: '1.2.0',
      seq: 3,
      url: server.url('/rootfs-1.2.0.img'),
    });
    const { slot } = await device.settle(['--install-manifest', rel.manifest]);
    expect(slot).toBe('B');
    expect(await device.slotDigest('B', SIZE)).toBe(sha256Hex(image));
    // Each retry asks for the byte it got to: nothing is downloaded twice within a run.
    const starts = server.requests.slice(-4).map((r) => Number(/\d+/.exec(r.range ?? '0')?.[0]));
    expect(starts.slice(0, 3)).toEqual([0, 300_000, 300_000]);
    expect(starts[3]).toBeGreaterThan(300_000 + 131_072);
    expect(server.sentBytes).toBeLessThanOrEqual(SIZE + 65_536);
    expect((await device.reports()).map((r) => r.state)).toEqual(['installed', 'committed']);
  });

  it('rolls back to A within the boot attempts when the new slot fails its health check', async () => {
    const dir = await newDir();
    // The health script fails when the running slot's image is the "bad" release.
    const script = path.join(dir, 'health.sh');
    await writeFile(
      script,
      `#!/bin/sh\ngrep -q 'rauc.slot=B' ${path.join(dir, 'emu/cmdline')} && { echo "B is broken" >&2; exit 1; }\nexit 0\n`,
    );
    const device = await SimOtaDevice.create(dir, {
      imageBytes: SIZE,
      health: { command: ['sh', script], deadlineMs: 300 },
    });
    const rel = await device.release(fakeImage('1.3.0-bad', SIZE), { version: '1.3.0', seq: 4 });
    const { slot, boots } = await device.settle(['--install', rel.payload, '--manifest', rel.manifest]);
    expect(slot).toBe('A');
    expect(boots).toBe(3);
    expect(await device.slotDigest('A', SIZE)).toBe(sha256Hex(device.factoryImage));
    const env = device.printenv();
    expect(env.get('BOOT_ORDER')).toBe('A');
    expect(env.get('BOOT_B_LEFT')).toBe('0');
    const reports = await device.reports();
    expect(reports.map((r) => r.state)).toEqual(['installed', 'rolled-back']);
    expect(reports[1]).toMatchObject({ reason: 'unhealthy', bootedSlot: 'A', version: '1.3.0' });
    expect(reports[1]?.message).toContain('B is broken');
  });

  it('falls back through the bootloader when the new slot never comes up, and reports it', async () => {
    const device = await SimOtaDevice.create(await newDir(), { imageBytes: SIZE });
    const image = fakeImage('1.4.0', SIZE);
    Buffer.from('EDGE-SIM-PANIC').copy(image, 0);
    const rel = await device.release(image, { version: '1.4.0', seq: 5 });
    const { slot } = await device.settle(['--install', rel.payload, '--manifest', rel.manifest]);
    expect(slot).toBe('A');
    expect(device.lines.filter((l) => l.includes('panicked'))).toHaveLength(3);
    const reports = await device.reports();
    expect(reports.map((r) => r.state)).toEqual(['installed', 'rolled-back']);
    expect(reports[1]).toMatchObject({ reason: 'boot-failed', bootedSlot: 'A' });
    expect(device.printenv().get('BOOT_ORDER')).toBe('A');
  });
});
