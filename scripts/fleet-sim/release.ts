/**
 * A release for the rollout: an image for the `rootfs` slots, served over HTTP from this process,
 * and its manifest signed with the run's fleet key (the agent's manifest codec, as `edge-agent
 * manifest create` uses it), per-chunk hashes included.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { digestFile } from '../../agent/ota/digest-file.js';
import { signManifest } from '../../agent/ota/manifest.js';
import { fakeImage } from '../ota-emulator/provision.js';
import { SLOT_BYTES } from './device-config.js';
import type { Fleet } from './fleet.js';

export interface Release {
  readonly manifest: Uint8Array;
  readonly version: string;
  /** Downloads served. */
  readonly served: () => number;
  close(): Promise<void>;
}

export async function publishRelease(fleet: Fleet, version: string, seq: number): Promise<Release> {
  const image = fakeImage(version, SLOT_BYTES - 4096);
  const file = path.join(fleet.dir, `rootfs-${version}.img`);
  await writeFile(file, image);
  let served = 0;
  const server: Server = createServer((req, res) => {
    served++;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': image.length });
    res.end(req.method === 'HEAD' ? undefined : image);
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  const chunk = 65_536;
  const digest = await digestFile(file, chunk);
  const manifest = signManifest(
    {
      v: 1,
      component: 'rootfs',
      version,
      seq,
      hw: ['sim'],
      size: digest.sizeBytes,
      sha256: digest.sha256,
      format: 'raw',
      chunk,
      chunks: digest.chunks ?? [],
      url: `http://127.0.0.1:${port}/rootfs-${version}.img`,
      created: Math.floor(Date.now() / 1000),
    },
    [fleet.keys],
  );
  return {
    manifest,
    version,
    served: () => served,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
