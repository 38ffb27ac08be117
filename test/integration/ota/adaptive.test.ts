/**
 * Adaptive updates through the whole install (OtaManager with image slots, the file boot backend,
 * the emulated bootloader) from a loopback HTTP server: what is fetched for an identical image, a
 * changed one, chunks moved to other offsets, a corrupted local chunk, a server without `Range`, and a
 * power cut in the middle. Every install still ends with the slot read back, so each case also proves
 * the image is exactly the new one.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { AdaptiveSource } from '../../../agent/ota/adaptive-source.js';
import { hashChunks } from '../../../agent/ota/chunk-index.js';
import { HttpPayloadSource } from '../../../agent/ota/download.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { OtaTestDevice } from '../../support/ota-test-device.js';
import { PayloadServer } from '../../support/payload-server.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-adaptive-');
const CHUNK = 64 * 1024;
const CHUNKS = 32;
const SIZE = CHUNK * CHUNKS;

const server = new PayloadServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

/** The factory image with the chunks `which` replaced by new bytes. */
function changed(base: Buffer, which: readonly number[]): Buffer {
  const next = Buffer.from(base);
  for (const i of which) fakeImage(`changed ${i}`, CHUNK).copy(next, i * CHUNK);
  return next;
}

async function installFromServer(device: OtaTestDevice, image: Buffer, seq: number) {
  const name = `/img-${seq}-${Math.random().toString(36).slice(2)}`;
  server.serve(name, image);
  const release = await device.release(image, { seq, url: server.url(name) }, { chunkBytes: CHUNK });
  const ota = device.manager();
  await ota.start();
  const sentBefore = server.sentBytes;
  const reports: { state: string; fetchedBytes?: number | undefined; sizeBytes?: number | undefined }[] = [];
  ota.on('report', (r) => reports.push(r));
  const result = await ota.install({ manifest: release.manifest });
  if (!result.ok) throw new Error(`${result.code}: ${result.reason}`);
  await result.done;
  await ota.stop();
  return { sent: server.sentBytes - sentBefore, report: reports.find((r) => r.state === 'installed') };
}

async function device() {
  return OtaTestDevice.create(await tempDir(), { imageBytes: SIZE, settings: { adaptive: true } });
}

describe('adaptive updates', () => {
  it('fetches nothing for an image the running slot already holds, and reads it back whole', async () => {
    const d = await device();
    const { sent, report } = await installFromServer(d, d.factoryImage, 2);
    expect(sent).toBe(0);
    expect(report).toMatchObject({ fetchedBytes: 0, sizeBytes: SIZE });
    expect((await d.slotBytes('B'))!.subarray(0, SIZE).equals(d.factoryImage)).toBe(true);
  });

  it('fetches only the changed chunks, adjacent ones in one range', async () => {
    const d = await device();
    const image = changed(d.factoryImage, [3, 4, 5, 20]);
    const before = server.requests.length;
    const { sent, report } = await installFromServer(d, image, 2);
    expect(sent).toBe(4 * CHUNK);
    expect(report?.fetchedBytes).toBe(4 * CHUNK);
    expect(server.requests.slice(before).map((r) => r.range)).toEqual([
      `bytes=${3 * CHUNK}-${6 * CHUNK - 1}`,
      `bytes=${20 * CHUNK}-${21 * CHUNK - 1}`,
    ]);
    expect((await d.slotBytes('B'))!.subarray(0, SIZE).equals(image)).toBe(true);
  });

  it('fetches every chunk when all changed', async () => {
    const d = await device();
    const image = fakeImage('all new', SIZE);
    const { sent } = await installFromServer(d, image, 2);
    expect(sent).toBe(SIZE);
    expect((await d.slotBytes('B'))!.subarray(0, SIZE).equals(image)).toBe(true);
  });

  it('finds chunks moved to other offsets by their hash', async () => {
    const d = await device();
    const image = Buffer.alloc(SIZE);
    for (let i = 0; i < CHUNKS; i++)
      d.factoryImage.copy(image, i * CHUNK, ((i * 7) % CHUNKS) * CHUNK, (((i * 7) % CHUNKS) + 1) * CHUNK);
    const { sent } = await installFromServer(d, image, 2);
    expect(sent).toBe(0);
    expect((await d.slotBytes('B'))!.subarray(0, SIZE).equals(image)).toBe(true);
  });

  it('does not reuse a corrupted local chunk: its hash does not match, so it is fetched', async () => {
    const d = await device();
    const handle = await open(d.slots.A, 'r+');
    await handle.write(Buffer.from('bit rot'), 0, 7, 10 * CHUNK + 100);
    await handle.close();
    const { sent } = await installFromServer(d, d.factoryImage, 2);
    expect(sent).toBe(CHUNK);
    expect((await d.slotBytes('B'))!.subarray(0, SIZE).equals(d.factoryImage)).toBe(true);
  });

  it('falls back to the whole stream from a server that ignores Range', async () => {
    const d = await device();
    const image = changed(d.factoryImage, [1, 30]);
    server.ignoreRanges = true;
    try {
      const { sent } = await installFromServer(d, image, 2);
      expect(sent).toBe(SIZE); // one full answer, read to its end
    } finally {
      server.ignoreRanges = false;
    }
    expect((await d.slotBytes('B'))!.subarray(0, SIZE).equals(image)).toBe(true);
  });

  it('resumes after a power cut, whatever the source of the chunks written so far', async () => {
    const d = await device();
    const image = changed(d.factoryImage, [2, 16, 17, 29]);
    const name = '/cut.img';
    server.serve(name, image);
    const release = await d.release(image, { seq: 2, url: server.url(name) }, { chunkBytes: CHUNK });
    let ota = d.manager();
    await ota.start();
    let cut: Promise<void> | undefined;
    ota.on('progress', (p) => {
      if (p.phase === 'writing' && p.bytes >= 18 * CHUNK) cut ??= ota.stop();
    });
    const result = await ota.install({ manifest: release.manifest });
    expect(result.ok).toBe(true);
    await new Promise<void>((resolve) => {
      const wait = () => (cut ? cut.then(resolve) : setTimeout(wait, 5));
      wait();
    });
    ota = d.manager();
    await ota.start();
    await ota.idle();
    expect(d.rebootRequests).toHaveLength(1);
    expect((await d.slotBytes('B'))!.subarray(0, SIZE).equals(image)).toBe(true);
  });
});

describe('AdaptiveSource', () => {
  it('verifies each local chunk as it reads it: an index that lies costs a fetch, never a wrong byte', async () => {
    const dir = await tempDir();
    const d = await OtaTestDevice.create(dir, { imageBytes: SIZE });
    const truth = await hashChunks(d.slots.A, CHUNK, SIZE);
    // A second index of slot A claims its chunk 5 holds what chunk 6 of the new image needs.
    const image = Buffer.from(d.factoryImage);
    fakeImage('six', CHUNK).copy(image, 6 * CHUNK);
    const lie = createHash('sha256')
      .update(image.subarray(6 * CHUNK, 7 * CHUNK))
      .digest('hex');
    const hashes = truth.hashes.map((h, i) => (i === 5 ? lie : `not ${h}`));
    server.serve('/lie.img', image);
    const chunks = Array.from({ length: CHUNKS }, (_, i) =>
      createHash('sha256')
        .update(image.subarray(i * CHUNK, (i + 1) * CHUNK))
        .digest(),
    );
    const source = new AdaptiveSource({
      remote: new HttpPayloadSource({
        url: server.url('/lie.img'),
        sizeBytes: SIZE,
        clock: new SystemClock(),
      }),
      sizeBytes: SIZE,
      chunkBytes: CHUNK,
      chunks,
      local: [truth, { ...truth, hashes }],
      targetPath: d.slots.B,
    });
    const parts: Buffer[] = [];
    for await (const b of source.read(0, new AbortController().signal)) parts.push(Buffer.from(b));
    await source.close();
    expect(Buffer.concat(parts).equals(image)).toBe(true);
    expect(source.fetchedBytes).toBe(CHUNK);
  });
});
