/**
 * Two ways to read and write the U-Boot environment named by a `fw_env.config`:
 *  - `FwToolsUbootEnv` runs libubootenv's `fw_printenv` / `fw_setenv -s -` (one `name=value` line per
 *    variable, an empty value deletes; all changes land in one write);
 *  - `NativeUbootEnv` reads and writes the image itself (uboot-env-image.ts), redundant copy included,
 *    for boards without the tools and for the device emulator.
 * Both read the copy libubootenv would read, so either can be checked against the other. Neither takes
 * libubootenv's lock file (`/var/lock/fw_printenv.lock`): the installer is the only writer while the
 * system runs, and the bootloader writes only before Linux starts.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../../core/errors.js';
import { InstallError } from '../install-errors.js';
import { type CommandOutput, type RunCommand, runCommand } from '../run-command.js';
import type { BootVarChanges } from './boot-order.js';
import {
  assertVariable,
  currentCopy,
  decodeEnvImage,
  type EnvCopy,
  encodeEnvImage,
  type FwEnvDevice,
  parseFwEnvConfig,
} from './uboot-env-image.js';

export interface UbootEnvStore {
  /** Every variable of the current copy. Rejects with `EBOOT_ENV` when no copy is valid. */
  read(): Promise<Map<string, string>>;
  /** Sets (string) or deletes (null) variables in one durable write. */
  write(changes: BootVarChanges): Promise<void>;
}

export class FwToolsUbootEnv implements UbootEnvStore {
  readonly #configFile: string;
  readonly #run: RunCommand;
  readonly #printenv: string;
  readonly #setenv: string;

  constructor(options: { configFile: string; printenv?: string; setenv?: string }, run = runCommand) {
    this.#configFile = options.configFile;
    this.#printenv = options.printenv ?? 'fw_printenv';
    this.#setenv = options.setenv ?? 'fw_setenv';
    this.#run = run;
  }

  async read(): Promise<Map<string, string>> {
    const out = await this.#exec([this.#printenv, '-c', this.#configFile]);
    const vars = new Map<string, string>();
    for (const line of out.stdout.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
    }
    return vars;
  }

  async write(changes: BootVarChanges): Promise<void> {
    const script = Object.entries(changes)
      .map(([name, value]) => {
        assertVariable(name, value ?? '');
        return `${name}=${value ?? ''}\n`;
      })
      .join('');
    if (script === '') return;
    await this.#exec([this.#setenv, '-c', this.#configFile, '-s', '-'], script);
  }

  async #exec(argv: string[], stdin?: string): Promise<CommandOutput> {
    let out: CommandOutput;
    try {
      out = await this.#run(argv, stdin === undefined ? {} : { stdin });
    } catch (e) {
      throw new InstallError('EBOOT_ENV', 'boot-env', `cannot run ${argv[0]}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    if (out.code !== 0) {
      const detail = (out.stderr || out.stdout).trim().split('\n').slice(-1)[0] ?? '';
      throw new InstallError('EBOOT_ENV', 'boot-env', `${argv[0]} exited with ${out.code}: ${detail}`);
    }
    return out;
  }
}

export class NativeUbootEnv implements UbootEnvStore {
  readonly #configFile: string;

  constructor(options: { configFile: string }) {
    this.#configFile = options.configFile;
  }

  async read(): Promise<Map<string, string>> {
    const { copies } = await this.#load();
    const cur = currentCopy(copies);
    if (cur < 0)
      throw new InstallError('EBOOT_ENV', 'boot-env', 'no valid U-Boot environment copy (bad CRC)');
    return copies[cur]!.vars;
  }

  async write(changes: BootVarChanges): Promise<void> {
    const { devices, copies } = await this.#load();
    const redundant = devices.length === 2;
    const cur = currentCopy(copies);
    const vars = new Map(cur >= 0 ? copies[cur]!.vars : []);
    for (const [name, value] of Object.entries(changes)) {
      assertVariable(name, value ?? '');
      if (value === null || value === '') vars.delete(name);
      else vars.set(name, value);
    }
    // Like libubootenv: the other copy when redundant (copy 1 if neither is valid), else in place.
    const target = redundant ? (cur === 1 ? 0 : 1) : 0;
    const flags = redundant ? ((cur >= 0 ? copies[cur]!.flags : copies[0]!.flags) + 1) & 0xff : 0;
    const dev = devices[target]!;
    const image = encodeEnvImage(vars, dev.sizeBytes, redundant, flags);
    const handle = await open(dev.device, 'r+').catch((e: unknown) => {
      throw new InstallError('EBOOT_ENV', 'boot-env', `cannot open ${dev.device}: ${errorMessage(e)}`, {
        cause: e,
      });
    });
    try {
      await handle.write(image, 0, image.length, dev.offset);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async #load(): Promise<{ devices: FwEnvDevice[]; copies: EnvCopy[] }> {
    let devices: FwEnvDevice[];
    try {
      devices = parseFwEnvConfig(await readFile(this.#configFile, 'utf8')).map((d) => ({
        ...d,
        device: path.resolve(d.device),
      }));
    } catch (e) {
      throw new InstallError('EBOOT_ENV', 'boot-env', `${this.#configFile}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    const redundant = devices.length === 2;
    const copies = await Promise.all(
      devices.map(async (d) => decodeEnvImage(await readRegion(d), redundant)),
    );
    return { devices, copies };
  }
}

async function readRegion(dev: FwEnvDevice): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(dev.device, 'r');
  } catch (e) {
    throw new InstallError('EBOOT_ENV', 'boot-env', `cannot open ${dev.device}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  try {
    const buf = Buffer.alloc(dev.sizeBytes);
    const { bytesRead } = await handle.read(buf, 0, dev.sizeBytes, dev.offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
