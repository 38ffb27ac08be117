/**
 * A small device emulator for the simulated board: it plays the bootloader's part at every power-on
 * and reboot, then starts the agent (or a minimal installer process) as the "operating system".
 *
 * At power-on it reads each component's boot environment the way `fw_printenv` does (the U-Boot
 * environment natively, redundant copy included; the file backend's file), runs boards/uboot-ab.script
 * over it as U-Boot's hush would (`./uboot-hush.ts`: the first slot in `BOOT_ORDER` with attempts left
 * is booted and loses one; none left → all reset and the board resets), writes back what the script's
 * `saveenv` saved (for the file backend only its `BOOT_` variables), and boots the slot named by
 * `rauc.slot=` in the script's `bootargs`. A `jetson` or `efi` component is chosen instead by the
 * Jetson firmware (jetson-firmware.ts) or the UEFI boot manager (uefi-firmware.ts) over the state file
 * the fake nvbootctrl/efibootmgr share with it (`agentEnv()` names it to them). A slot whose image
 * starts with `EDGE-SIM-PANIC` (or a directory holding a `PANIC` file) "panics" and the board resets,
 * spending the attempt. The chosen slots go on the emulated kernel command line (`rauc.slot=B edge.agent.slot=A`), with a fresh boot id, in files the agent's
 * `ota.bootInfo` points at. The agent asks for a reboot by running `rebootCommand()`, which leaves a
 * request file the emulator picks up; it then stops the child and powers on again.
 *
 * `cut()` is a power cut: SIGKILL to the child's whole process group (fw_setenv and all). Unlike a real
 * power cut it keeps the page cache, so it tests the journal's logic, not the disk's ordering.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BootVars, effectiveChanges } from '../../agent/ota/boot/boot-order.js';
import { FileEnvStore } from '../../agent/ota/boot/file.js';
import type { SlotName } from '../../agent/ota/boot/types.js';
import { NativeUbootEnv, type UbootEnvStore } from '../../agent/ota/boot/uboot-env-store.js';
import { jetsonFirmwareBoot } from './jetson-firmware.js';
import { runBootScript } from './uboot-hush.js';
import { uefiFirmwareBoot } from './uefi-firmware.js';

export const PANIC_MARKER = 'EDGE-SIM-PANIC';

export interface EmulatedComponent {
  readonly name: string;
  readonly boot:
    | { readonly kind: 'uboot'; readonly fwEnvConfig: string }
    | { readonly kind: 'file'; readonly file: string }
    /** The fake nvbootctrl's state file: the emulator plays the Jetson firmware over it. */
    | { readonly kind: 'jetson'; readonly stateFile: string }
    /** The fake efibootmgr's NVRAM file: the emulator plays the UEFI boot manager over it. */
    | { readonly kind: 'efi'; readonly stateFile: string };
  readonly cmdlineParam: string;
  readonly slots: Readonly<
    Record<SlotName, { readonly kind: 'image' | 'block' | 'dir'; readonly path: string }>
  >;
}

export interface BootRecord {
  readonly bootId: string;
  /** The slot each component booted. */
  readonly slots: Readonly<Record<string, SlotName>>;
  /** Power-ons spent on panics and resets before this boot. */
  readonly failedBoots: readonly string[];
}

export type RunEnd =
  | { readonly kind: 'reboot'; readonly args: string }
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'power-cut' };

export interface RunOptions {
  readonly argv: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Each stdout line of the child (its JSON log). */
  readonly onLine?: (line: string, control: { cut(): void }) => void;
  readonly stdio?: 'pipe' | 'inherit';
  /**
   * Run the child in its own process group (default) so a power cut also kills what it spawned;
   * false keeps it in the terminal's foreground group (an interactive console on stdio needs that).
   */
  readonly detached?: boolean;
}

/** What the emulator says about its power-ons: `warn` for a failed boot or a crashed child. */
export type EmulatorLog = (line: string, level?: 'info' | 'warn') => void;

// More than two full budgets of 15 attempts (the most `boot.attempts` allows) and a reset.
const MAX_FAILED_BOOTS = 40;

/**
 * The board's own variables the script expects in the environment (its "Board:" lines), under what the
 * environment holds; only what the script changes is written back.
 */
export const EMULATED_BOARD_ENV: ReadonlyMap<string, string> = new Map([
  ['bootpart_A', '/dev/emu-a'],
  ['bootpart_B', '/dev/emu-b'],
  ['bootdev_A', 'emu 0:2'],
  ['bootdev_B', 'emu 0:3'],
  ['default_bootargs', 'console=ttyEMU0'],
]);

/** boards/uboot-ab.script, found upwards from this module (it runs from the sources and from dist/). */
export function findBootScript(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'boards/uboot-ab.script');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`boards/uboot-ab.script not found above ${from}`);
  }
}

export class DeviceEmulator {
  readonly dir: string;
  readonly cmdlineFile: string;
  readonly bootIdFile: string;
  readonly #requestFile: string;
  readonly #components: readonly EmulatedComponent[];
  readonly #log: EmulatorLog;
  readonly #scriptFile: string;
  #script: string | undefined;
  #cut: (() => void) | undefined;
  #stop: ((signal: NodeJS.Signals) => void) | undefined;
  #boots = 0;

  constructor(options: {
    dir: string;
    components: readonly EmulatedComponent[];
    log?: EmulatorLog;
    /** The boot script the emulated U-Boot runs (default: boards/uboot-ab.script). */
    bootScript?: string;
  }) {
    this.dir = options.dir;
    this.#scriptFile = options.bootScript ?? findBootScript();
    this.#components = options.components;
    this.#log = options.log ?? (() => undefined);
    this.cmdlineFile = path.join(this.dir, 'cmdline');
    this.bootIdFile = path.join(this.dir, 'boot_id');
    this.#requestFile = path.join(this.dir, 'reboot-request');
  }

  /** Power-ons so far (including failed ones). */
  get boots(): number {
    return this.#boots;
  }

  /** The argv the agent runs to reboot; the backend's extra arguments are appended by the agent. */
  rebootCommand(): string[] {
    return ['sh', '-c', 'printf "%s\\n" "$*" > "$0.tmp" && mv "$0.tmp" "$0"', this.#requestFile];
  }

  /** Environment overrides that point the agent's `ota.bootInfo` and reboot command at this emulator. */
  agentEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      EDGE_AGENT_OTA_BOOT_INFO_CMDLINE: this.cmdlineFile,
      EDGE_AGENT_OTA_BOOT_INFO_BOOT_ID: this.bootIdFile,
      EDGE_AGENT_OTA_REBOOT_COMMAND: JSON.stringify(this.rebootCommand()),
    };
    // The fake tools (test/support/fake-*.mjs) find the firmware state they share with the emulator here.
    for (const c of this.#components) {
      if (c.boot.kind === 'jetson') env.FAKE_NVBOOTCTRL_STATE = c.boot.stateFile;
      if (c.boot.kind === 'efi') env.FAKE_EFIBOOTMGR_STATE = c.boot.stateFile;
    }
    return env;
  }

  /** The bootloader: chooses, saves and boots a slot per component, resetting on panics. */
  async powerOn(): Promise<BootRecord> {
    await mkdir(this.dir, { recursive: true });
    await rm(this.#requestFile, { force: true });
    const failedBoots: string[] = [];
    for (;;) {
      this.#boots++;
      const slots: Record<string, SlotName> = {};
      let failed: string | undefined;
      for (const c of this.#components) {
        if (c.boot.kind === 'jetson' || c.boot.kind === 'efi') {
          const choice =
            c.boot.kind === 'jetson'
              ? await jetsonFirmwareBoot(c.boot.stateFile)
              : await uefiFirmwareBoot(c.boot.stateFile);
          if ('failed' in choice) {
            failed = `${c.name}: ${choice.failed}`;
            break;
          }
          if (await this.#panics(c, choice.slot)) {
            failed = `${c.name}: slot ${choice.slot} panicked`;
            break;
          }
          slots[c.name] = choice.slot;
          continue;
        }
        const store = this.#store(c.boot);
        const vars: BootVars = await store.read().catch(() => new Map<string, string>());
        this.#script ??= await readFile(this.#scriptFile, 'utf8');
        const seen = new Map([...EMULATED_BOARD_ENV, ...vars]);
        const run = runBootScript(this.#script, seen);
        if (run.saved) {
          const changes = effectiveChanges(seen, savedChanges(seen, run.saved, c.boot.kind === 'file'));
          if (Object.keys(changes).length > 0) await store.write(changes); // saveenv
        }
        const slot = /(?:^| )rauc\.slot=([AB])(?: |$)/.exec(run.bootargs ?? '')?.[1] as SlotName | undefined;
        if (run.outcome !== 'boot' || !slot) {
          failed =
            run.outcome === 'reset'
              ? `${c.name}: no slot with attempts left; reset`
              : `${c.name}: the boot script did not boot a slot (${run.console.at(-1) ?? run.outcome})`;
          break;
        }
        if (await this.#panics(c, slot)) {
          failed = `${c.name}: slot ${slot} panicked`;
          break;
        }
        slots[c.name] = slot;
      }
      if (failed) {
        this.#log(`boot ${this.#boots}: ${failed}`, 'warn');
        failedBoots.push(failed);
        if (failedBoots.length >= MAX_FAILED_BOOTS)
          throw new Error(`device does not boot: ${failedBoots.join('; ')}`);
        continue;
      }
      const bootId = randomUUID();
      const params = this.#components.map((c) => `${c.cmdlineParam}=${slots[c.name]}`).join(' ');
      await writeFile(this.cmdlineFile, `console=ttyEMU0 root=/dev/emu ${params}\n`);
      await writeFile(this.bootIdFile, `${bootId}\n`);
      this.#log(`boot ${this.#boots}: ${params}`);
      return { bootId, slots, failedBoots };
    }
  }

  /** Runs the "operating system" until it asks for a reboot, exits, or the power is cut. */
  run(options: RunOptions): Promise<RunEnd> {
    return new Promise((resolve, reject) => {
      const [file, ...args] = options.argv;
      if (!file) throw new TypeError('argv must name a program');
      const child = spawn(file, args, {
        cwd: options.cwd,
        env: { ...process.env, ...this.agentEnv(), ...options.env },
        stdio: options.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
        detached: options.detached ?? true,
      });
      const group = options.detached ?? true;
      let end: RunEnd | undefined;
      let stderr = '';
      const cut = () => {
        if (end) return;
        end = { kind: 'power-cut' };
        kill(child, 'SIGKILL', group);
      };
      this.#cut = cut;
      this.#stop = (signal) => kill(child, signal, group);
      let buffered = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        buffered += d;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          options.onLine?.(line, { cut });
        }
      });
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        stderr = (stderr + d).slice(-4000);
      });
      const poll = setInterval(() => {
        void stat(this.#requestFile).then(
          async () => {
            if (end) return;
            const request = (await readFile(this.#requestFile, 'utf8').catch(() => '')).trim();
            await rm(this.#requestFile, { force: true });
            end = { kind: 'reboot', args: request };
            // systemd stops the services before the reboot: SIGTERM, then SIGKILL after a grace period.
            kill(child, 'SIGTERM', group);
            setTimeout(() => kill(child, 'SIGKILL', group), 3000).unref();
          },
          () => undefined,
        );
      }, 20);
      child.once('error', (e) => {
        clearInterval(poll);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearInterval(poll);
        this.#cut = undefined;
        this.#stop = undefined;
        if (!end && code !== 0 && code !== 130 && code !== 143 && stderr)
          this.#log(`child stderr: ${stderr}`, 'warn');
        if (end) {
          resolve(end);
          return;
        }
        // A reboot requested just before the process ended is still a reboot.
        void readFile(this.#requestFile, 'utf8').then(
          async (request) => {
            await rm(this.#requestFile, { force: true });
            resolve({ kind: 'reboot', args: request.trim() });
          },
          () => resolve({ kind: 'exited', code, signal }),
        );
      });
    });
  }

  /** Asks the running "operating system" to stop (Ctrl-C on the emulator). */
  stop(signal: NodeJS.Signals): void {
    this.#stop?.(signal);
  }

  /** Cuts the power while the "operating system" runs (no-op between runs). */
  cut(): void {
    this.#cut?.();
  }

  #store(boot: { kind: 'uboot'; fwEnvConfig: string } | { kind: 'file'; file: string }): UbootEnvStore {
    return boot.kind === 'uboot'
      ? new NativeUbootEnv({ configFile: boot.fwEnvConfig })
      : new FileEnvStore({ file: boot.file });
  }

  async #panics(c: EmulatedComponent, slot: SlotName): Promise<boolean> {
    const spec = c.slots[slot];
    if (spec.kind === 'dir')
      return stat(path.join(spec.path, 'PANIC')).then(
        () => true,
        () => false,
      );
    const head = await readFile(spec.path).then(
      (b) => b.subarray(0, PANIC_MARKER.length).toString('latin1'),
      () => PANIC_MARKER, // a missing image does not boot either
    );
    return head === PANIC_MARKER;
  }
}

/** What `saveenv` changed: every variable for U-Boot; for the file backend only the A/B ones. */
function savedChanges(
  before: BootVars,
  saved: BootVars,
  bootVarsOnly: boolean,
): Record<string, string | null> {
  const keep = (k: string) => !bootVarsOnly || k.startsWith('BOOT_');
  const changes: Record<string, string | null> = {};
  for (const [k, v] of saved) if (keep(k)) changes[k] = v;
  for (const k of before.keys()) if (keep(k) && !saved.has(k)) changes[k] = null;
  return changes;
}

function kill(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(group ? -child.pid : child.pid, signal);
  } catch {
    // already gone
  }
}
