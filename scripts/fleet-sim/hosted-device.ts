/**
 * One simulated gateway inside an agent host: its emulated board (the bootloader of
 * scripts/ota-emulator, run at every power-on) and the real agent — `loadConfig`, `loadIdentity`,
 * `buildAgent`, `start` as main.ts does them, minus what only a process entry may do (signals, exit
 * codes, stdio, consoles) — restarted in place whenever the agent asks for a reboot.
 *
 * It keeps the ground truth the backend is judged against: every batch the agent's outbox sealed
 * (boot, seq, kind, items), across reboots. A *planted* device models a hardware variant the new
 * image does not boot on: after an update asks for its trial reboot, the device's slot B panics
 * (the emulator's `EDGE-SIM-PANIC` marker), so the bootloader spends the trial and falls back.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { identitySettingsFrom } from '../../agent/attest/attest-schema.js';
import { loadIdentity } from '../../agent/attest/identity.js';
import type { Agent } from '../../agent/build-agent.js';
import { loadConfig } from '../../agent/config/load-config.js';
import type { Clock } from '../../agent/core/clock.js';
import { hostPaths } from '../../agent/core/host-paths.js';
import type { Logger } from '../../agent/core/log.js';
import { DRIVERS } from '../../agent/hal/drivers/registry.js';
import type { BatchInfo } from '../../agent/telemetry/outbox-types.js';
import { type DeviceEmulator, PANIC_MARKER } from '../ota-emulator/device-emulator.js';
import { type DeviceFiles, emulatorFor } from './device-config.js';

export interface SealedBatch {
  readonly boot: string;
  readonly seq: number;
  readonly kind: string;
  readonly items: number;
}

export interface DeviceSnapshot {
  readonly deviceId: string;
  readonly boots: number;
  readonly slot: string;
  readonly connected: boolean;
  /** Items still in the outbox (sealed and not acknowledged, or in open batches). */
  readonly queuedItems: number;
  readonly openItems: number;
  readonly dropped: number;
  readonly reconnects: number;
}

const REBOOT_POLL_MS = 1000;

export class HostedDevice {
  readonly files: DeviceFiles;
  readonly planted: boolean;
  readonly sealed: SealedBatch[] = [];
  deviceId = '';
  publicKeyPem = '';
  boots = 0;
  slot = '';
  readonly #deps: { clock: Clock; log: Logger; repoRoot: string };
  readonly #emulator: DeviceEmulator;
  #agent: Agent | undefined;
  #poll: NodeJS.Timeout | undefined;
  #rebooting: Promise<void> | undefined;
  #stopped = false;

  constructor(files: DeviceFiles, planted: boolean, deps: { clock: Clock; log: Logger; repoRoot: string }) {
    this.files = files;
    this.planted = planted;
    this.#deps = deps;
    this.#emulator = emulatorFor(files, (line, level) => {
      if (level === 'warn') deps.log.warn({ dir: files.dir }, `emulator: ${line}`);
    });
  }

  /** Powers the board on and starts the agent; resolves once the agent runs. */
  async start(): Promise<void> {
    await this.#boot();
    this.#poll = setInterval(() => void this.#checkReboot(), REBOOT_POLL_MS);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#poll);
    await this.#rebooting;
    await this.#agent?.stop();
    this.#agent = undefined;
  }

  snapshot(): DeviceSnapshot {
    const t = this.#agent?.telemetry?.status();
    const link = this.#agent?.link?.status();
    return {
      deviceId: this.deviceId,
      boots: this.boots,
      slot: this.slot,
      connected: this.#agent?.link?.connected ?? false,
      queuedItems: t?.queue.items ?? 0,
      openItems: t?.queue.openItems ?? 0,
      dropped: t?.drops.total ?? 0,
      reconnects: link?.reconnects ?? 0,
    };
  }

  async #boot(): Promise<void> {
    const record = await this.#emulator.powerOn();
    this.boots++;
    this.slot = record.slots.rootfs ?? '';
    const { clock, log, repoRoot } = this.#deps;
    const loaded = await loadConfig({
      configFile: this.files.configFile,
      env: {},
      paths: hostPaths({}),
      drivers: DRIVERS,
      boardsDir: path.join(repoRoot, 'boards'),
    });
    const identity = await loadIdentity(
      identitySettingsFrom(loaded.config, loaded.stateDir),
      { clock },
      {
        create: true,
      },
    );
    this.deviceId = identity.deviceId;
    this.publicKeyPem = identity.publicKeyPem();
    const { buildAgent } = await import('../../agent/build-agent.js');
    const agent = await buildAgent(loaded, { clock, log: log.child({ dev: identity.deviceId }), identity });
    await agent.start();
    this.#agent = agent;
    agent.telemetry?.outbox?.on('sealed', (b: BatchInfo) =>
      this.sealed.push({ boot: b.bootId, seq: b.seq, kind: b.kind, items: b.items }),
    );
  }

  /** The agent ran the reboot command: stop it as systemd would, power on again, start it. */
  async #checkReboot(): Promise<void> {
    if (this.#rebooting || this.#stopped) return;
    const request = path.join(this.files.emuDir, 'reboot-request');
    if (
      !(await stat(request).then(
        () => true,
        () => false,
      ))
    )
      return;
    this.#rebooting = (async () => {
      await this.#agent?.stop();
      this.#agent = undefined;
      // The trial boot of the new image on the planted hardware variant panics.
      if (this.planted && this.slot === 'A') await markPanic(this.files.slots.B);
      if (!this.#stopped) await this.#boot();
    })()
      .catch((error: unknown) => this.#deps.log.error({ err: String(error) }, 'reboot failed'))
      .finally(() => {
        this.#rebooting = undefined;
      });
    await this.#rebooting;
  }
}

async function markPanic(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.write(Buffer.from(PANIC_MARKER, 'latin1'), 0, PANIC_MARKER.length, 0);
  } finally {
    await handle.close();
  }
}
