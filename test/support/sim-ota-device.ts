/**
 * An emulated device in a temp dir for OTA integration tests: a configuration with a `rootfs`
 * component (image-file slots, the U-Boot backend over a redundant file-backed environment through
 * the real `fw_printenv`/`fw_setenv` — or the `jetson`/`efi` backend through the fake nvbootctrl or
 * efibootmgr over firmware state the emulator plays), a fleet key and its trust, slot A flashed with a factory image,
 * and the device emulator that boots it and runs the minimal installer process
 * (`dist/scripts/ota-emulator/installer-main.js`).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateKeyPair, type KeyPair } from '../../agent/core/cose.js';
import { publicKeyToPem } from '../../agent/core/ed25519-keys.js';
import { digestFile } from '../../agent/ota/digest-file.js';
import { type Manifest, signManifest } from '../../agent/ota/manifest.js';
import { type OtaReport, ReportQueue } from '../../agent/ota/report-queue.js';
import { DeviceEmulator, type RunEnd } from '../../scripts/ota-emulator/device-emulator.js';
import { jetsonFactoryNvram, writeJetsonNvram } from '../../scripts/ota-emulator/jetson-firmware.js';
import {
  FACTORY_BOOT_VARS,
  fakeImage,
  writeRedundantUbootEnv,
} from '../../scripts/ota-emulator/provision.js';
import {
  UEFI_SLOT_LABELS,
  uefiFactoryNvram,
  writeUefiNvram,
} from '../../scripts/ota-emulator/uefi-firmware.js';
import { REPO_ROOT } from './agent-process.js';

export const INSTALLER = path.join(REPO_ROOT, 'dist/scripts/ota-emulator/installer-main.js');
/** The scripted stand-ins for the Jetson and UEFI tools (firmware state in a JSON file each). */
export const FAKE_NVBOOTCTRL = path.join(REPO_ROOT, 'test/support/fake-nvbootctrl.mjs');
export const FAKE_EFIBOOTMGR = path.join(REPO_ROOT, 'test/support/fake-efibootmgr.mjs');

export type SimBootBackend = 'uboot' | 'jetson' | 'efi';

export interface SimDeviceOptions {
  readonly imageBytes: number;
  readonly tool?: 'fw' | 'native';
  /**
   * The boot backend: `uboot` (default), or `jetson`/`efi` driving the fake nvbootctrl/efibootmgr over
   * the firmware state the emulator plays at each power-on (`bootStateFile`).
   */
  readonly backend?: SimBootBackend;
  /** Extra `health:` settings (YAML flow text is not needed: plain object). */
  readonly health?: Record<string, unknown>;
  readonly download?: Record<string, unknown>;
  /** More top-level configuration (a board, `ota.hawkbit` goes in `ota`). */
  readonly config?: Record<string, unknown>;
  readonly ota?: Record<string, unknown>;
}

export class SimOtaDevice {
  readonly dir: string;
  readonly configFile: string;
  readonly fwEnvConfig: string;
  readonly backend: SimBootBackend;
  /** The fake nvbootctrl's or efibootmgr's state file (jetson, efi). */
  readonly bootStateFile: string;
  readonly slots: { A: string; B: string };
  readonly stateDir: string;
  readonly keys: KeyPair;
  readonly factoryImage: Buffer;
  readonly emulator: DeviceEmulator;
  readonly lines: string[] = [];

  private constructor(dir: string, imageBytes: number, backend: SimBootBackend) {
    this.dir = dir;
    this.configFile = path.join(dir, 'agent.yaml');
    this.fwEnvConfig = path.join(dir, 'boot/fw_env.config');
    this.backend = backend;
    this.bootStateFile = path.join(dir, backend === 'efi' ? 'boot/efivars.json' : 'boot/nvbootctrl.json');
    this.slots = { A: path.join(dir, 'slots/rootfs-a.img'), B: path.join(dir, 'slots/rootfs-b.img') };
    this.stateDir = path.join(dir, 'state');
    this.keys = generateKeyPair();
    this.factoryImage = fakeImage('factory 1.0.0', imageBytes);
    this.emulator = new DeviceEmulator({
      dir: path.join(dir, 'emu'),
      components: [
        {
          name: 'rootfs',
          boot:
            backend === 'uboot'
              ? { kind: 'uboot', fwEnvConfig: this.fwEnvConfig }
              : { kind: backend, stateFile: this.bootStateFile },
          cmdlineParam: 'rauc.slot',
          slots: { A: { kind: 'image', path: this.slots.A }, B: { kind: 'image', path: this.slots.B } },
        },
      ],
      log: (l) => this.lines.push(`[emu] ${l}`),
    });
  }

  static async create(dir: string, options: SimDeviceOptions): Promise<SimOtaDevice> {
    const backend = options.backend ?? 'uboot';
    const d = new SimOtaDevice(dir, options.imageBytes, backend);
    await mkdir(path.join(dir, 'slots'), { recursive: true });
    await writeFile(d.slots.A, d.factoryImage);
    await writeRedundantUbootEnv(path.join(dir, 'boot/uboot.env'), d.fwEnvConfig, FACTORY_BOOT_VARS);
    if (backend === 'jetson') await writeJetsonNvram(d.bootStateFile, jetsonFactoryNvram());
    if (backend === 'efi') await writeUefiNvram(d.bootStateFile, uefiFactoryNvram());
    const boot =
      backend === 'jetson'
        ? { backend, nvbootctrl: FAKE_NVBOOTCTRL }
        : backend === 'efi'
          ? { backend, efibootmgr: FAKE_EFIBOOTMGR, entries: UEFI_SLOT_LABELS }
          : { backend, fwEnvConfig: 'boot/fw_env.config', tool: options.tool ?? 'fw' };
    await writeFile(path.join(dir, 'fleet.pub.pem'), publicKeyToPem(d.keys.publicKey));
    const config = {
      version: 1,
      stateDir: 'state',
      ...options.config,
      ota: {
        ...options.ota,
        trust: { keys: ['fleet.pub.pem'] },
        health: { deadlineMs: 3000, pollMs: 50, loopsRunning: false, ...options.health },
        download: {
          checkpointBytes: 262_144,
          syncIntervalBytes: 262_144,
          retryBaseMs: 20,
          retryMaxMs: 200,
          maxAttempts: 6,
          ...options.download,
        },
        components: {
          rootfs: {
            slots: { kind: 'image', A: 'slots/rootfs-a.img', B: 'slots/rootfs-b.img' },
            boot,
          },
        },
      },
    };
    await writeFile(d.configFile, JSON.stringify(config, null, 2)); // JSON is YAML
    return d;
  }

  /** Writes `image` and a signed manifest for it; returns the paths. */
  async release(
    image: Uint8Array,
    fields: Partial<Manifest> & { version: string; seq: number },
    name = `update-${fields.seq}`,
  ): Promise<{ payload: string; manifest: string; bytes: Uint8Array }> {
    const payload = path.join(this.dir, `${name}.img`);
    await writeFile(payload, image);
    const chunk = fields.chunk ?? 262_144;
    const digest = await digestFile(payload, chunk);
    const manifest: Manifest = {
      v: 1,
      component: 'rootfs',
      hw: ['sim'],
      size: digest.sizeBytes,
      sha256: digest.sha256,
      format: 'raw',
      chunk,
      chunks: digest.chunks!,
      ...fields,
    };
    const bytes = signManifest(manifest, [this.keys]);
    const manifestFile = `${payload}.cose`;
    await writeFile(manifestFile, bytes);
    return { payload, manifest: manifestFile, bytes };
  }

  /** One run of the installer process under the emulator (the device must be powered on first). */
  run(args: string[] = [], onLine?: (line: string, control: { cut(): void }) => void): Promise<RunEnd> {
    return this.emulator.run({
      argv: [process.execPath, INSTALLER, '--config', this.configFile, '--board-id', 'sim', ...args],
      onLine: (line, control) => {
        this.lines.push(line);
        onLine?.(line, control);
      },
    });
  }

  /**
   * Boots and runs the installer until it exits without asking for a reboot (the device settled),
   * rebooting in between as the installer asks. Returns the boots made.
   */
  async settle(firstArgs: string[] = [], maxBoots = 12): Promise<{ boots: number; slot: string }> {
    let args = firstArgs;
    for (let boots = 1; boots <= maxBoots; boots++) {
      const boot = await this.emulator.powerOn();
      const end = await this.run(args);
      args = [];
      if (end.kind === 'exited') {
        if (end.code !== 0)
          throw new Error(`installer exited with ${end.code}:\n${this.lines.slice(-30).join('\n')}`);
        return { boots, slot: boot.slots.rootfs! };
      }
    }
    throw new Error(`device did not settle in ${maxBoots} boots:\n${this.lines.slice(-40).join('\n')}`);
  }

  async reports(): Promise<OtaReport[]> {
    return new ReportQueue(path.join(this.stateDir, 'ota/reports')).pending();
  }

  /** `fw_printenv` of the real tool, as a map. */
  printenv(): Map<string, string> {
    const out = spawnSync('fw_printenv', ['-c', this.fwEnvConfig], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`fw_printenv failed: ${out.stderr}`);
    return new Map(
      out.stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
    );
  }

  async slotDigest(slot: 'A' | 'B', bytes: number): Promise<string> {
    const data = await readFile(this.slots[slot]).catch(() => Buffer.alloc(0));
    return createHash('sha256').update(data.subarray(0, bytes)).digest('hex');
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
