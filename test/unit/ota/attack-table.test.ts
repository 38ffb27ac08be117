/**
 * The attack table: hostile or broken offers, each rejected with its own reason, reported as
 * `rejected`, and never able to make the target slot bootable. Offers refused before the download
 * write nothing at all (the target slot file is never created, the boot environment is untouched);
 * offers whose payload turns out bad are stopped during the transfer, with the target left marked bad
 * and never holding the complete bad image (the last unit is written only after the digest matched).
 */

import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { CommittedStore } from '../../../agent/ota/committed-state.js';
import type { InstallResult } from '../../../agent/ota/ota-manager.js';
import { trustFromKeys } from '../../../agent/ota/trust.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { OtaTestDevice } from '../../support/ota-test-device.js';
import { PayloadServer } from '../../support/payload-server.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-attack-');
const SIZE = 256 * 1024;
const image = fakeImage('1.2.0', SIZE);

async function expectRejected(device: OtaTestDevice, result: InstallResult, code: string): Promise<void> {
  expect(result).toMatchObject({ ok: false, code });
  const reports = await device.manager().reports.pending();
  expect(reports.at(-1)).toMatchObject({ state: 'rejected', reason: code });
}

/** Refused before any byte moves: no slot file, the boot environment as provisioned. */
async function expectNothingWritten(device: OtaTestDevice, envBefore: Map<string, string>): Promise<void> {
  expect(await device.slotBytes('B')).toBeUndefined();
  expect(await device.env()).toEqual(envBefore);
}

describe('offers refused before anything is written', () => {
  const cases: {
    name: string;
    code: string;
    offer: (d: OtaTestDevice) => Promise<{ manifest: Uint8Array; file?: string; component?: string }>;
  }[] = [
    {
      name: 'a bad signature',
      code: 'bad-signature',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2 });
        const tampered = new Uint8Array(rel.manifest);
        tampered[tampered.length - 1]! ^= 0x01; // the last byte of the Ed25519 signature
        return { manifest: tampered, file: rel.file };
      },
    },
    {
      name: 'a key the trust root does not hold',
      code: 'unknown-key',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2 }, { keys: [generateKeyPair()] });
        return { manifest: rel.manifest, file: rel.file };
      },
    },
    {
      name: 'a replayed older seq',
      code: 'replayed-seq',
      offer: async (d) => {
        await new CommittedStore(path.join(d.dir, 'state/committed.json')).record(
          'rootfs',
          { seq: 9, version: '1.9.0', slot: 'A', wallMs: 0 },
          0,
        );
        const rel = await d.release(image, { seq: 9 });
        return { manifest: rel.manifest, file: rel.file };
      },
    },
    {
      name: 'an expired manifest',
      code: 'expired',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2, expires: Math.floor(Date.now() / 1000) - 60 });
        return { manifest: rel.manifest, file: rel.file };
      },
    },
    {
      name: 'another board',
      code: 'wrong-hw',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2, hw: ['rpi4', 'rpi5'] });
        return { manifest: rel.manifest, file: rel.file };
      },
    },
    {
      name: 'a manifest for another component',
      code: 'wrong-component',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2, component: 'agent', format: 'tar' });
        return { manifest: rel.manifest, file: rel.file, component: 'rootfs' };
      },
    },
    {
      name: 'a component this device does not have',
      code: 'wrong-component',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2, component: 'modem' });
        return { manifest: rel.manifest, file: rel.file };
      },
    },
    {
      name: 'a path-traversal component ("../x") in the offer',
      code: 'bad-component',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2 });
        return { manifest: rel.manifest, component: '../x' };
      },
    },
    {
      name: 'a tar payload for an image slot',
      code: 'format-mismatch',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2, format: 'tar' });
        return { manifest: rel.manifest, file: rel.file };
      },
    },
    {
      name: 'a payload larger than the slot',
      code: 'too-large',
      offer: async (d) => {
        const rel = await d.release(image, { seq: 2, size: 64 << 20 }, { chunkBytes: null });
        return { manifest: rel.manifest, file: rel.file };
      },
    },
    {
      name: 'no payload file and no url',
      code: 'no-payload',
      offer: async (d) => ({ manifest: (await d.release(image, { seq: 2 })).manifest }),
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name} as ${c.code}`, async () => {
      const device = await OtaTestDevice.create(await newDir(), { slotSizeBytes: 8 << 20 });
      const ota = device.manager();
      await ota.start();
      await ota.idle();
      const envBefore = await device.env();
      const result = await ota.install(await c.offer(device));
      await ota.idle();
      await expectRejected(device, result, c.code);
      await expectNothingWritten(device, envBefore);
    });
  }

  it('rejects a manifest signed by fewer keys than the threshold as below-threshold', async () => {
    const second = generateKeyPair();
    const device = await OtaTestDevice.create(await newDir(), {
      trust: (keys) => trustFromKeys([keys.publicKey, second.publicKey], 2),
    });
    const ota = device.manager();
    await ota.start();
    await ota.idle();
    const envBefore = await device.env();
    const rel = await device.release(image, { seq: 2 });
    await expectRejected(
      device,
      await ota.install({ manifest: rel.manifest, file: rel.file }),
      'below-threshold',
    );
    await expectNothingWritten(device, envBefore);
    // Both keys together are enough.
    const both = await device.release(image, { seq: 2 }, { keys: [device.keys, second], name: 'both.img' });
    expect(await ota.install({ manifest: both.manifest, file: both.file })).toMatchObject({ ok: true });
    await ota.idle();
  });

  it('rejects malformed CBOR and mutated manifests without throwing or writing', async () => {
    const device = await OtaTestDevice.create(await newDir());
    const ota = device.manager();
    await ota.start();
    await ota.idle();
    const envBefore = await device.env();
    const rel = await device.release(image, { seq: 2 });
    const good = rel.manifest;
    const hostile = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      // A valid manifest with one byte changed, or cut short.
      fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const m = new Uint8Array(good);
        m[i]! ^= x;
        return m;
      }),
      fc.nat({ max: good.length - 1 }).map((n) => good.subarray(0, n)),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (bytes) => {
        const result = await ota.install({ manifest: bytes, file: rel.file });
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(['bad-cose', 'bad-signature', 'unknown-key', 'bad-payload', 'below-threshold']).toContain(
            result.code,
          );
        }
      }),
      { numRuns: 150 },
    );
    await expectNothingWritten(device, envBefore);
  });
});

describe('payloads that turn out bad during the transfer', () => {
  const server = new PayloadServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  async function offer(
    servedBytes: Uint8Array,
    fields: { seq: number; url?: string; sha256?: Uint8Array },
    options: { chunkBytes?: number | null; faults?: Parameters<PayloadServer['fail']> } = {},
  ) {
    const device = await OtaTestDevice.create(await newDir());
    const urlPath = `/${path.basename(device.dir)}.img`;
    server.serve(urlPath, servedBytes);
    if (options.faults) server.fail(...options.faults);
    const rel = await device.release(
      image,
      { url: server.url(urlPath), ...fields },
      { chunkBytes: options.chunkBytes },
    );
    const ota = device.manager();
    await ota.start();
    const result = await ota.install({ manifest: rel.manifest });
    expect(result).toMatchObject({ ok: true });
    await ota.idle();
    const reports = await ota.reports.pending();
    const env = await device.env();
    // Whatever happened, B is out of the boot order and A still boots.
    expect(env.get('BOOT_ORDER')).toBe('A');
    expect(env.get('BOOT_B_LEFT')).toBe('0');
    expect(await device.reboot()).toBe('A');
    expect((await ota.status()).install).toBeUndefined();
    return { device, reports, slotB: (await device.slotBytes('B')) ?? Buffer.alloc(0) };
  }

  it('stops a payload longer than its size (endless data) as size-exceeded', async () => {
    const { reports, slotB } = await offer(image, { seq: 2 }, { faults: [{ endless: true }] });
    expect(reports.at(-1)).toMatchObject({ state: 'rejected', reason: 'size-exceeded' });
    expect(slotB.equals(image)).toBe(false);
    expect(slotB.length).toBeLessThan(SIZE);
  });

  it('rejects a payload whose whole digest is wrong as digest-mismatch, never completing the image', async () => {
    const wrong = new Uint8Array(32).fill(7);
    const { reports, slotB } = await offer(image, { seq: 2, sha256: wrong }, { chunkBytes: null });
    expect(reports.at(-1)).toMatchObject({ state: 'rejected', reason: 'digest-mismatch' });
    expect(slotB.length).toBeLessThan(SIZE);
  });

  it('rejects a corrupt chunk as chunk-digest-mismatch before it reaches the slot', async () => {
    const corrupt = Buffer.from(image);
    corrupt[3 * 65_536 + 10]! ^= 0xff;
    const { reports, slotB } = await offer(corrupt, { seq: 2 });
    expect(reports.at(-1)).toMatchObject({ state: 'rejected', reason: 'chunk-digest-mismatch' });
    expect(slotB.length).toBe(3 * 65_536); // chunks 0–2 only
    expect(slotB.equals(image.subarray(0, 3 * 65_536))).toBe(true);
  });

  it('gives up on a download that keeps stopping short as truncated', async () => {
    const { reports } = await offer(
      image,
      { seq: 2 },
      {
        faults: [
          { dropAfterBytes: 100_000 },
          { dropAfterBytes: 0 },
          { dropAfterBytes: 0 },
          { dropAfterBytes: 0 },
          { dropAfterBytes: 0 },
        ],
      },
    );
    expect(reports.at(-1)).toMatchObject({ state: 'rejected', reason: 'truncated' });
  });

  it('rejects a server that holds a different length as size-mismatch', async () => {
    const { reports, slotB } = await offer(image.subarray(0, SIZE - 1000), { seq: 2 });
    expect(reports.at(-1)).toMatchObject({ state: 'rejected', reason: 'size-mismatch' });
    expect(slotB.length).toBe(0);
  });

  it('rejects a 404 at once as http-404', async () => {
    const { reports } = await offer(image, { seq: 2 }, { faults: [{ status: 404 }] });
    expect(reports.at(-1)).toMatchObject({ state: 'rejected', reason: 'http-404' });
    expect(server.requests.at(-1)?.status).toBe(404);
  });
});
