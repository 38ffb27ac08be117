/**
 * One simulated gateway's directory, as a factory would provision it: `agent.yaml` for the real agent
 * on the simulated board, a redundant U-Boot environment and slot A flashed with a factory image (the
 * device emulator plays the bootloader over them), and the fleet's public key as its trust.
 *
 * The configuration is the fleet-sim *wiring*, lighter than config/dev.yaml's chamber kit so that a
 * thousand agents share two cores (README "Fleets" gives the figures); the agent code is the same:
 * - one BME280 in a simulated chamber and its heater relay, no PMS5003/BTHome/door/coolant (those
 *   push several frames a second each);
 * - the sensor polled every `pollMs` (5 s, not 1 s), the plant stepped every second (not 100 ms),
 *   rules evaluated every second (not 100 ms), staleness swept every 5 s;
 * - the PID loop every 5 s with a one-minute time-proportioning window;
 * - telemetry: every sample reported (no deadband, so the loss count has something to count),
 *   batches sealed after 5 s, a group commit every 200 ms, metrics every 10 s, a 4 MiB budget;
 *   `timeTrust: system` (the host's clock is good) so readings are not held for NTP; the scheduler's
 *   own counters (`control.*`, updated at every tick) stay local like `telemetry.*` and `link.*`;
 * - signed telemetry (`identity.signTelemetry`), so the backend checks every batch end to end;
 * - no console transports.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeviceEmulator, type EmulatorLog } from '../ota-emulator/device-emulator.js';
import { FACTORY_BOOT_VARS, fakeImage, writeRedundantUbootEnv } from '../ota-emulator/provision.js';

export const SLOT_BYTES = 256 * 1024;

export interface DeviceSettings {
  /** The broker the agent connects to. */
  readonly brokerUrl: string;
  /** The fleet's public key (PEM file), trusted for updates and commands. */
  readonly fleetPubPem: string;
  /** The repository root (boards/sim.yaml). */
  readonly repoRoot: string;
  /** Seed of this device's simulated plant. */
  readonly seed: number;
  readonly pollMs?: number;
  /** Reconnect backoff of the link (the agent's default: 1 s … 60 s). */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** OTA health deadline after a trial boot. */
  readonly healthDeadlineMs?: number;
}

export interface DeviceFiles {
  readonly dir: string;
  readonly configFile: string;
  readonly stateDir: string;
  readonly emuDir: string;
  readonly fwEnvConfig: string;
  readonly slots: { readonly A: string; readonly B: string };
}

export function deviceFiles(dir: string): DeviceFiles {
  return {
    dir,
    configFile: path.join(dir, 'agent.yaml'),
    stateDir: path.join(dir, 'state'),
    emuDir: path.join(dir, 'emu'),
    fwEnvConfig: path.join(dir, 'boot/fw_env.config'),
    slots: { A: path.join(dir, 'slots/rootfs-a.img'), B: path.join(dir, 'slots/rootfs-b.img') },
  };
}

/** Provisions `dir` (made if missing) and returns its files. */
export async function provisionDevice(dir: string, s: DeviceSettings): Promise<DeviceFiles> {
  const f = deviceFiles(dir);
  await mkdir(path.dirname(f.slots.A), { recursive: true });
  await writeFile(f.slots.A, fakeImage('factory 1.0.0', SLOT_BYTES));
  await writeRedundantUbootEnv(path.join(dir, 'boot/uboot.env'), f.fwEnvConfig, FACTORY_BOOT_VARS);
  const pollMs = s.pollMs ?? 5000;
  const config = {
    version: 1,
    board: path.join(s.repoRoot, 'boards/sim.yaml'),
    stateDir: 'state',
    log: { level: 'warn' },
    devices: [
      {
        id: 'chamber',
        driver: 'bme280',
        pollMs,
        points: { temperature: 'chamber.temp', humidity: 'chamber.humidity', pressure: 'chamber.pressure' },
        options: { bus: 1, address: 0x76 },
      },
      {
        id: 'heater',
        driver: 'relay',
        options: { line: { chip: 'sim-gpio', offset: 17 }, safeState: 'off' },
      },
    ],
    sim: { seed: s.seed, stepMs: 1000, chamber: { heater: 'heater', sensor: 'chamber' } },
    loops: [
      {
        name: 'chamber',
        input: 'chamber.temp',
        output: 'heater.state',
        setpoint: 45,
        periodMs: 5000,
        tunings: { kp: 0.2, ki: 0.002, kd: 1.0 },
        outputLimits: { min: 0, max: 1 },
        timeProportioning: { windowMs: 60_000, minOnMs: 5000, minOffMs: 5000 },
        safeOutput: 0,
      },
    ],
    control: { rulesPeriodMs: 1000 },
    points: { staleCheckMs: 5000 },
    link: {
      url: s.brokerUrl,
      keepaliveS: 60,
      backoff: s.backoff ?? { baseMs: 1000, maxMs: 60_000 },
    },
    telemetry: {
      budget: '4MiB',
      commitIntervalMs: 200,
      batchMaxAgeMs: 5000,
      offlineBatchMaxAgeMs: 60_000,
      metricsPeriodMs: 10_000,
      timeTrust: 'system',
      exclude: ['telemetry.*', 'link.*', 'control.*'],
    },
    identity: { signTelemetry: true },
    console: { stdio: false, socket: { enabled: false } },
    ota: {
      trust: { keys: [s.fleetPubPem] },
      rebootCommand: emulatorFor(f).rebootCommand(),
      bootInfo: { cmdline: 'emu/cmdline', bootId: 'emu/boot_id' },
      health: { deadlineMs: s.healthDeadlineMs ?? 30_000, pollMs: 500, points: ['chamber.temp'] },
      components: {
        rootfs: {
          slots: { kind: 'image', A: 'slots/rootfs-a.img', B: 'slots/rootfs-b.img', sizeBytes: SLOT_BYTES },
          boot: { backend: 'uboot', fwEnvConfig: 'boot/fw_env.config', tool: 'native' },
        },
      },
    },
  };
  await writeFile(f.configFile, JSON.stringify(config, null, 2)); // JSON is YAML
  return f;
}

/** The emulated board of a device: U-Boot over its environment, the rootfs slots as image files. */
export function emulatorFor(f: DeviceFiles, log?: EmulatorLog): DeviceEmulator {
  return new DeviceEmulator({
    dir: f.emuDir,
    components: [
      {
        name: 'rootfs',
        boot: { kind: 'uboot', fwEnvConfig: f.fwEnvConfig },
        cmdlineParam: 'rauc.slot',
        slots: { A: { kind: 'image', path: f.slots.A }, B: { kind: 'image', path: f.slots.B } },
      },
    ],
    ...(log ? { log } : {}),
  });
}
