/**
 * One power-loss trial on an emulated device: start an update, cut the power (SIGKILL to the
 * installer's whole process group) at a chosen point, then keep rebooting through the emulated
 * bootloader until the device settles, checking after every power-on that the slot booted holds a
 * complete, verified image, and at the end that the boot environment (read by the real `fw_printenv`
 * and natively) agrees with itself and with the slot running — or, for the `jetson` and `efi`
 * backends, that the emulated firmware's state boots the running slot next and holds it confirmed —
 * and that the last report tells the truth.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seededRandom } from '../../agent/hal/sim/random.js';
import { primarySlot, slotState } from '../../agent/ota/boot/boot-order.js';
import { NativeUbootEnv } from '../../agent/ota/boot/uboot-env-store.js';
import { CommittedStore } from '../../agent/ota/committed-state.js';
import { readJetsonNvram } from '../../scripts/ota-emulator/jetson-firmware.js';
import { fakeImage } from '../../scripts/ota-emulator/provision.js';
import { readUefiNvram, UEFI_SLOT_LABELS } from '../../scripts/ota-emulator/uefi-firmware.js';
import { PayloadServer } from './payload-server.js';
import { type SimBootBackend, SimOtaDevice, sha256Hex } from './sim-ota-device.js';
import { describeWithTools } from './system-tools.js';
import { tempDirs } from './temp-dir.js';

export const TRIAL_IMAGE_BYTES = 1 << 20;
export const TRIAL_CHUNK_BYTES = 131_072;

export type CutPoint =
  /** After the installer logs `ota step` for this step (in whichever boot), wait `delayMs`. */
  | { readonly kind: 'step'; readonly step: string; readonly delayMs: number }
  /** `delayMs` after the installer process of boot number `boot` (1-based) was started. */
  | { readonly kind: 'time'; readonly boot: number; readonly delayMs: number };

export interface TrialOptions {
  readonly dir: string;
  readonly cut: CutPoint;
  readonly source: 'file' | 'http';
  readonly tool: 'fw' | 'native';
  /** The boot backend (default `uboot`); `jetson` and `efi` run the fake tools over emulated firmware. */
  readonly backend?: SimBootBackend | undefined;
  readonly server: PayloadServer;
  readonly label: string;
  /** Serve the payload in pieces of `bytes` every `delayMs` (spreads the write step out in time). */
  readonly trickle?: { readonly bytes: number; readonly delayMs: number } | undefined;
  /** The new image made from the factory one (an adaptive update reuses its chunks); default: all new. */
  readonly image?: ((factory: Buffer) => Buffer) | undefined;
}

export interface TrialResult {
  readonly cutHappened: boolean;
  readonly final: 'committed' | 'rolled-back' | 'none';
  readonly boots: number;
  /** The write resumed from a journaled offset after the cut. */
  readonly resumedWrite: boolean;
  /** Chunks were found on the device (an adaptive install). */
  readonly adaptive: boolean;
}

/** Deterministic PRNG (mulberry32) so a failing trial can be replayed from its seed. */
export function rng(seed: number): () => number {
  return seededRandom(seed).next;
}

export async function runPowerLossTrial(o: TrialOptions): Promise<TrialResult> {
  const device = await SimOtaDevice.create(o.dir, {
    imageBytes: TRIAL_IMAGE_BYTES,
    tool: o.tool,
    backend: o.backend ?? 'uboot',
  });
  const image = o.image ? o.image(device.factoryImage) : fakeImage(o.label, TRIAL_IMAGE_BYTES);
  const urlPath = `/${path.basename(o.dir)}.img`;
  o.server.serve(urlPath, image);
  if (o.trickle && o.source === 'http') {
    o.server.fail({ trickleBytes: o.trickle.bytes, trickleDelayMs: o.trickle.delayMs });
  }
  const rel = await device.release(image, {
    version: '2.0.0',
    seq: 7,
    chunk: TRIAL_CHUNK_BYTES,
    ...(o.source === 'http' ? { url: o.server.url(urlPath) } : {}),
  });
  const digests = { A: sha256Hex(device.factoryImage), B: sha256Hex(image) };
  const context = () =>
    `trial ${o.label} cut=${JSON.stringify(o.cut)}\n${device.lines.slice(-40).join('\n')}`;

  let args =
    o.source === 'http'
      ? ['--install-manifest', rel.manifest]
      : ['--install', rel.payload, '--manifest', rel.manifest];
  let armed = true;
  let cutHappened = false;
  let booted: 'A' | 'B' = 'A';
  for (let boot = 1; ; boot++) {
    if (boot > 12) throw new Error(`device did not settle\n${context()}`);
    const rec = await device.emulator.powerOn();
    booted = rec.slots.rootfs as 'A' | 'B';
    // Whatever happened before, the bootloader only ever boots a complete, verified image.
    expect(await device.slotDigest(booted, TRIAL_IMAGE_BYTES), context()).toBe(digests[booted]);
    let timer: NodeJS.Timeout | undefined;
    if (armed && o.cut.kind === 'time' && o.cut.boot === boot) {
      armed = false;
      timer = setTimeout(() => device.emulator.cut(), o.cut.delayMs);
    }
    const end = await device.run(args, (line, control) => {
      if (!armed || o.cut.kind !== 'step' || !line.includes('"ota step"')) return;
      if (!line.includes(`"step":"${o.cut.step}"`)) return;
      armed = false;
      timer = setTimeout(() => control.cut(), o.cut.delayMs);
    });
    clearTimeout(timer);
    args = [];
    if (end.kind === 'power-cut') {
      cutHappened = true;
      continue;
    }
    if (end.kind === 'exited') {
      expect(end.code, context()).toBe(0);
      break;
    }
  }
  await assertSettled(device, booted, digests, context);
  const reports = await device.reports();
  const last = reports.at(-1);
  return {
    cutHappened,
    final: last?.state === 'committed' ? 'committed' : last?.state === 'rolled-back' ? 'rolled-back' : 'none',
    boots: device.emulator.boots,
    resumedWrite: device.lines.some((l) => l.includes('ota resuming write')),
    adaptive: device.lines.some((l) => l.includes('ota adaptive') && !l.includes('"local":0')),
  };
}

async function assertSettled(
  device: SimOtaDevice,
  booted: 'A' | 'B',
  digests: { A: string; B: string },
  context: () => string,
): Promise<void> {
  if (device.backend === 'uboot') {
    // The env as the real fw_printenv reads it equals the env as the agent's native reader reads it.
    const printed = device.printenv();
    const native = await new NativeUbootEnv({ configFile: device.fwEnvConfig }).read();
    expect(Object.fromEntries(native), context()).toEqual(Object.fromEntries(printed));
    // It boots what is running, and the running slot is confirmed.
    expect(primarySlot(printed), context()).toBe(booted);
    expect(slotState(printed, booted), context()).toBe('good');
    expect(printed.get(`BOOT_${booted}_LEFT`), context()).toBe('3');
  } else if (device.backend === 'jetson') {
    // The firmware boots what is running next, and the running slot is confirmed (a full count).
    const nvram = await readJetsonNvram(device.bootStateFile);
    const n = booted === 'A' ? 0 : 1;
    expect({ current: nvram.current, active: nvram.active }, context()).toEqual({ current: n, active: n });
    expect(nvram.slots[n], context()).toEqual({ retryCount: nvram.retryCountMax, status: 'normal' });
  } else {
    // No trial is left pending, and BootOrder boots what is running first.
    const nvram = await readUefiNvram(device.bootStateFile);
    const entry = (slot: 'A' | 'B') => nvram.entries.find((e) => e.label === UEFI_SLOT_LABELS[slot])!.num;
    expect(nvram.bootNext, context()).toBeNull();
    expect(nvram.bootCurrent, context()).toBe(entry(booted));
    const slotEntries = new Set([entry('A'), entry('B')]);
    expect(
      nvram.bootOrder.find((n) => slotEntries.has(n)),
      context(),
    ).toBe(entry(booted));
  }
  // No install is left half-done.
  await expect(access(path.join(device.stateDir, 'ota/install.json')), context()).rejects.toThrow();
  // The last report is the truth about what runs.
  const reports = await device.reports();
  const last = reports.at(-1);
  const committed = await new CommittedStore(path.join(device.stateDir, 'ota/committed.json')).load();
  if (last === undefined) {
    expect(booted, context()).toBe('A');
    expect(committed.components.rootfs, context()).toBeUndefined();
  } else if (last.state === 'rolled-back' && device.backend === 'efi') {
    // BootNext is consumed by the boot it starts: the trial's budget is one boot, so a cut during the
    // trial boot before the commit lands on A — which the report must then say, as a failed boot.
    expect({ booted, reported: last.bootedSlot, reason: last.reason }, context()).toEqual({
      booted: 'A',
      reported: 'A',
      reason: 'boot-failed',
    });
    expect(committed.components.rootfs, context()).toBeUndefined();
  } else {
    expect(last.state, context()).toBe('committed');
    expect(last.bootedSlot, context()).toBe(booted);
    expect(booted, context()).toBe('B');
    expect(await device.slotDigest('B', TRIAL_IMAGE_BYTES), context()).toBe(digests.B);
    expect(committed.components.rootfs?.seq, context()).toBe(7);
    expect(
      reports.filter((r) => r.state === 'installed'),
      context(),
    ).toHaveLength(1);
  }
}

/** The steps of an install and its commit that drive a boot tool (the tool-driven backends' trials). */
const TOOL_STEPS = ['mark-target-bad', 'arm', 'reboot', 'check-health', 'commit', 'conclude'];

/**
 * One cut in each step in turn: even trials within ~20 ms of the step's start, while its boot tool
 * runs (~0.1–0.2 s a call, in the killed process group); odd ones later, between the step's tool
 * calls or after its last.
 */
export function toolStepCut(random: () => number, i: number): CutPoint {
  return {
    kind: 'step',
    step: TOOL_STEPS[i % TOOL_STEPS.length]!,
    delayMs: i % 2 === 0 ? Math.floor(random() * 20) : 120 + Math.floor(random() * 250),
  };
}

export interface SeriesOptions {
  /** Cuts that must really happen (a cut scheduled too late may miss; then another trial runs). */
  readonly cuts: number;
  readonly seed: number;
  readonly newDir: () => Promise<string>;
  readonly server: PayloadServer;
  readonly source: (i: number) => 'file' | 'http';
  readonly cutPoint: (random: () => number, i: number) => CutPoint;
  readonly label: string;
  readonly trickle?: TrialOptions['trickle'];
  readonly image?: TrialOptions['image'];
  readonly backend?: SimBootBackend;
}

export interface SeriesResult {
  readonly trials: number;
  readonly cuts: number;
  readonly committed: number;
  /** Trials that settled rolled back to A (only the `efi` backend's one-boot trial allows that). */
  readonly rolledBack: number;
  readonly resumedWrites: number;
  /** Trials whose install found chunks on the device (adaptive). */
  readonly adaptiveTrials: number;
  readonly points: readonly CutPoint[];
}

/** Runs trials until `cuts` power cuts happened (at most twice as many trials). */
export async function runTrialSeries(o: SeriesOptions): Promise<SeriesResult> {
  const random = rng(o.seed);
  const points: CutPoint[] = [];
  let trials = 0;
  let cuts = 0;
  let committed = 0;
  let rolledBack = 0;
  let resumedWrites = 0;
  let adaptiveTrials = 0;
  for (let i = 0; cuts < o.cuts && i < o.cuts * 2; i++) {
    trials++;
    const cut = o.cutPoint(random, i);
    const result = await runPowerLossTrial({
      dir: await o.newDir(),
      cut,
      source: o.source(i),
      tool: i % 2 === 0 ? 'fw' : 'native',
      backend: o.backend,
      server: o.server,
      label: `${o.label}-${i}`,
      trickle: o.trickle,
      image: o.image,
    });
    if (result.cutHappened) {
      cuts++;
      points.push(cut);
    }
    if (result.final === 'committed') committed++;
    if (result.final === 'rolled-back') rolledBack++;
    if (result.resumedWrite) resumedWrites++;
    if (result.adaptive) adaptiveTrials++;
  }
  return { trials, cuts, committed, rolledBack, resumedWrites, adaptiveTrials, points };
}

/**
 * One power-loss test file: a payload server, a series of cuts in fresh temp dirs (`dirPrefix`), the
 * check that every cut happened, then `check` on the series. The parts are files of their own so
 * that vitest runs them side by side.
 */
export function describePowerCuts(
  title: string,
  options: Omit<SeriesOptions, 'server' | 'newDir'> & { readonly dirPrefix: string },
  check: (series: SeriesResult) => void,
): void {
  const newDir = tempDirs(options.dirPrefix);
  // The U-Boot environment is read back with the real tools; jetson and efi run the fakes under node.
  const tools = (options.backend ?? 'uboot') === 'uboot' ? ['fw_printenv', 'fw_setenv'] : [];
  describeWithTools(tools, title, () => {
    const server = new PayloadServer();
    beforeAll(() => server.start());
    afterAll(() => server.stop());

    // 26 trials of several processes each: ~20-40 s idle, up to ~2 min on two cores beside two
    // CPU-bound processes. The budget only stops a hung series; nothing here is timed.
    it(`leave a bootable, truthfully reported device after each of ${options.cuts} cuts`, {
      timeout: 180_000,
    }, async () => {
      const series = await runTrialSeries({ ...options, server, newDir });
      expect(series.cuts).toBe(options.cuts);
      check(series);
    });
  });
}
