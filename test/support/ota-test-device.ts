/**
 * An in-process OTA device for unit tests: a `rootfs` component with image-file slots and the file
 * boot backend (RAUC's variables in a text file), a fleet key and its trust root, and the device
 * emulator's bootloader for "reboots". Each `manager()` is a fresh OtaManager, as after a restart;
 * its reboot command only records the request (the test calls `reboot()` to power on again).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Clock, SystemClock } from '../../agent/core/clock.js';
import { generateKeyPair, type KeyPair } from '../../agent/core/cose.js';
import { silentLogger } from '../../agent/core/log.js';
import { AbEnvBackend } from '../../agent/ota/boot/ab-env-backend.js';
import { fileBootSlotInfo } from '../../agent/ota/boot/boot-slot-info.js';
import { FileEnvStore } from '../../agent/ota/boot/file.js';
import type { BootBackend } from '../../agent/ota/boot/types.js';
import { digestFile } from '../../agent/ota/digest-file.js';
import { type HealthCheck, HealthMonitor } from '../../agent/ota/health.js';
import type { InstallSettings } from '../../agent/ota/installer.js';
import { type Manifest, signManifest } from '../../agent/ota/manifest.js';
import { OtaManager, type OtaManagerDeps } from '../../agent/ota/ota-manager.js';
import { type TrustRoot, trustFromKeys } from '../../agent/ota/trust.js';
import { DeviceEmulator } from '../../scripts/ota-emulator/device-emulator.js';
import { FACTORY_BOOT_VARS, fakeImage, writeFileEnv } from '../../scripts/ota-emulator/provision.js';

export const TEST_SETTINGS: InstallSettings = {
  readBack: 'medium',
  checkpointBytes: 65_536,
  syncIntervalBytes: 65_536,
  syncIntervalMs: 1000,
  maxAttempts: 4,
  retryBaseMs: 5,
  retryMaxMs: 20,
  lowSpeedBytesPerS: 1,
  lowSpeedWindowMs: 10_000,
  idleTimeoutMs: 5_000,
  headerTimeoutMs: 5_000,
  deadlineMs: 60_000,
  adaptive: false, // the adaptive tests turn it on
};

export interface OtaTestDeviceOptions {
  readonly imageBytes?: number;
  readonly slotSizeBytes?: number;
  readonly checks?: readonly HealthCheck[];
  readonly deadlineMs?: number;
  readonly trust?: (keys: KeyPair) => TrustRoot;
  readonly clock?: Clock;
  readonly settings?: Partial<InstallSettings>;
  /** Directory slots (a tar bundle, like the agent's own) instead of image files. */
  readonly slotKind?: 'image' | 'dir';
  /** Wraps the boot backend (to make it fail in a test). */
  readonly wrapBoot?: (backend: BootBackend) => BootBackend;
  /** More of the manager's dependencies (an update server's report mirror and download options). */
  readonly managerDeps?: Pick<OtaManagerDeps, 'reportMirrors' | 'downloadOptions'>;
}

export class OtaTestDevice {
  readonly dir: string;
  readonly keys: KeyPair;
  readonly envFile: string;
  readonly slots: { A: string; B: string };
  readonly factoryImage: Buffer;
  readonly emulator: DeviceEmulator;
  readonly rebootRequests: (readonly string[])[] = [];
  readonly #o: OtaTestDeviceOptions;

  private constructor(dir: string, o: OtaTestDeviceOptions) {
    this.dir = dir;
    this.#o = o;
    this.keys = generateKeyPair();
    this.envFile = path.join(dir, 'boot.env');
    const dirs = o.slotKind === 'dir';
    this.slots = dirs
      ? { A: path.join(dir, 'slot-a'), B: path.join(dir, 'slot-b') }
      : { A: path.join(dir, 'a.img'), B: path.join(dir, 'b.img') };
    this.factoryImage = fakeImage('factory', o.imageBytes ?? 256 * 1024);
    this.emulator = new DeviceEmulator({
      dir: path.join(dir, 'emu'),
      components: [
        {
          name: 'rootfs',
          boot: { kind: 'file', file: this.envFile },
          cmdlineParam: 'rauc.slot',
          slots: {
            A: { kind: o.slotKind ?? 'image', path: this.slots.A },
            B: { kind: o.slotKind ?? 'image', path: this.slots.B },
          },
        },
      ],
    });
  }

  static async create(dir: string, o: OtaTestDeviceOptions = {}): Promise<OtaTestDevice> {
    const d = new OtaTestDevice(dir, o);
    await mkdir(dir, { recursive: true });
    if (o.slotKind === 'dir') {
      await mkdir(d.slots.A);
      await writeFile(path.join(d.slots.A, 'VERSION'), 'factory\n');
    } else await writeFile(d.slots.A, d.factoryImage);
    await writeFileEnv(d.envFile, FACTORY_BOOT_VARS);
    await d.emulator.powerOn();
    return d;
  }

  /** A fresh manager, as the agent process builds it at start. */
  manager(): OtaManager {
    const bootInfo = fileBootSlotInfo({
      cmdline: this.emulator.cmdlineFile,
      bootId: this.emulator.bootIdFile,
    });
    const clock = this.#o.clock ?? new SystemClock();
    return new OtaManager({
      clock,
      log: silentLogger(),
      stateDir: path.join(this.dir, 'state'),
      board: 'sim',
      components: [
        {
          name: 'rootfs',
          slots: {
            A: { kind: this.#o.slotKind ?? 'image', path: this.slots.A, sizeBytes: this.#o.slotSizeBytes },
            B: { kind: this.#o.slotKind ?? 'image', path: this.slots.B, sizeBytes: this.#o.slotSizeBytes },
          },
          boot: (this.#o.wrapBoot ?? ((b) => b))(
            new AbEnvBackend('file', new FileEnvStore({ file: this.envFile }), bootInfo),
          ),
        },
      ],
      trust: async () => (this.#o.trust ? this.#o.trust(this.keys) : trustFromKeys([this.keys.publicKey], 1)),
      bootInfo,
      health: new HealthMonitor({
        clock,
        checks: this.#o.checks ?? [],
        deadlineMs: this.#o.deadlineMs ?? 1000,
        pollMs: 10,
      }),
      settings: { ...TEST_SETTINGS, ...this.#o.settings },
      reboot: async (args) => {
        this.rebootRequests.push(args);
      },
      ...this.#o.managerDeps,
    });
  }

  /** Power-on through the emulated bootloader; returns the slot booted. */
  async reboot(): Promise<string> {
    return (await this.emulator.powerOn()).slots.rootfs!;
  }

  async env(): Promise<Map<string, string>> {
    return new FileEnvStore({ file: this.envFile }).read();
  }

  async slotBytes(slot: 'A' | 'B'): Promise<Buffer | undefined> {
    return readFile(this.slots[slot]).catch(() => undefined);
  }

  /** Writes a payload file and returns it with its signed manifest (fields override the defaults). */
  async release(
    image: Uint8Array,
    fields: Partial<Manifest> & { seq: number },
    options: { keys?: KeyPair[]; chunkBytes?: number | null; name?: string } = {},
  ): Promise<{ file: string; manifest: Uint8Array; fields: Manifest }> {
    const file = path.join(this.dir, options.name ?? `payload-${fields.seq}.img`);
    await writeFile(file, image);
    const chunkBytes = options.chunkBytes === undefined ? 65_536 : options.chunkBytes;
    const digest = await digestFile(file, chunkBytes ?? undefined);
    const m: Manifest = {
      v: 1,
      component: 'rootfs',
      version: `1.${fields.seq}.0`,
      hw: ['sim'],
      size: digest.sizeBytes,
      sha256: digest.sha256,
      format: 'raw',
      ...(chunkBytes ? { chunk: chunkBytes, chunks: digest.chunks! } : {}),
      ...fields,
    };
    return { file, manifest: signManifest(m, options.keys ?? [this.keys]), fields: m };
  }
}
