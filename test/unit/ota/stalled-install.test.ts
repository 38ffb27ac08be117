/**
 * An update server that tries to park an install: a `Retry-After` of weeks (or past setTimeout's
 * range), header bytes dripped to keep the socket busy, a body trickled forever — and the
 * technician's way out, `ota.rollback` cancelling an install that is still writing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallSettings } from '../../../agent/ota/installer.js';
import type { OtaManager } from '../../../agent/ota/ota-manager.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { OtaTestDevice } from '../../support/ota-test-device.js';
import { PayloadServer } from '../../support/payload-server.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-stalled-');
const SIZE = 512 * 1024;

describe('an install from a server that stalls it', () => {
  const server = new PayloadServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  /** A device offered version 1.3.0 at `urlPath` of the server; returns its started manager. */
  async function offered(urlPath: string, settings: Partial<InstallSettings> = {}) {
    const device = await OtaTestDevice.create(await newDir(), { imageBytes: SIZE, settings });
    const image = fakeImage(urlPath, SIZE);
    server.serve(urlPath, image);
    const rel = await device.release(image, { seq: 3, url: server.url(urlPath) });
    const ota = device.manager();
    await ota.start();
    await ota.idle();
    return { device, image, ota, offer: () => ota.install({ manifest: rel.manifest }) };
  }

  const lastReport = async (ota: OtaManager) => (await ota.reports.pending()).at(-1);
  const targetState = async (ota: OtaManager) => (await ota.status()).components[0]?.slots.B.state;

  it('waits retryMaxMs, not 23 days, when the server asks Retry-After: 2000000 or 999999999', async () => {
    const { device, image, ota, offer } = await offered('/retry-after.img');
    server.fail({ status: 503, retryAfterS: 2_000_000 }, { status: 503, retryAfterS: 999_999_999 });
    await expect(offer()).resolves.toMatchObject({ ok: true });
    await ota.idle();
    expect((await ota.status()).install).toMatchObject({ phase: 'armed' });
    expect(await device.slotBytes('B')).toEqual(image);
  });

  it('rejects the install at its deadline when every attempt gets header bytes dripped at it', async () => {
    const { ota, offer } = await offered('/drip.img', {
      headerTimeoutMs: 200,
      deadlineMs: 1_500,
      maxAttempts: 100,
    });
    const before = server.requests.length;
    server.fail(...Array.from({ length: 100 }, () => ({ dripHeadersEveryMs: 20 })));
    try {
      await offer();
      await ota.idle();
    } finally {
      server.clearFaults();
    }
    expect(await lastReport(ota)).toMatchObject({ state: 'rejected', reason: 'deadline' });
    expect(await targetState(ota)).toBe('bad');
    // Each attempt ended at the header timeout and was retried, until the deadline ended them all.
    expect(server.requests.length - before).toBeGreaterThan(2);
  });

  it('cancels an install on ota.rollback while it downloads, leaving the target bad and saying why', async () => {
    const { ota, offer } = await offered('/trickle.img');
    server.fail({ trickleBytes: 4096, trickleDelayMs: 20 });
    let writing!: () => void;
    const written = new Promise<void>((resolve) => {
      writing = resolve;
    });
    ota.on('progress', (p) => {
      if (p.phase === 'writing' && p.bytes > 0) writing();
    });
    const accepted = await offer();
    await written;
    await expect(ota.rollback('console:tech')).resolves.toEqual({
      cancelled: accepted.ok ? accepted.installId : '',
      reboot: false,
    });
    expect(await lastReport(ota)).toMatchObject({
      state: 'rejected',
      reason: 'cancelled',
      message: 'cancelled by console:tech',
      targetSlot: 'B',
    });
    expect(await targetState(ota)).toBe('bad');
    const status = await ota.status();
    expect(status).toMatchObject({ busy: false, install: undefined, rebootPending: false });
  });
});
