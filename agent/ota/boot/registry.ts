/**
 * The boot backends a configuration can name, one factory per bootloader in one array (balena's
 * `config/backends/`). A factory validates its own `boot:` options (relative paths are resolved
 * against the configuration file by `deps.resolve`) and builds the backend without I/O.
 */
import path from 'node:path';
import { z } from 'zod';
import type { RunCommand } from '../run-command.js';
import { AbEnvBackend } from './ab-env-backend.js';
import type { BootSlotInfo } from './boot-slot-info.js';
import { EfiBackend } from './efi.js';
import { FileEnvStore } from './file.js';
import { GrubBackend } from './grub.js';
import { JetsonBackend } from './jetson.js';
import { TrybootBackend } from './tryboot.js';
import type { BootBackend } from './types.js';
import { FwToolsUbootEnv, NativeUbootEnv } from './uboot-env-store.js';

export interface BootBackendDeps {
  readonly bootInfo: BootSlotInfo;
  /** Resolves a configured path (relative to the configuration file). */
  readonly resolve: (p: string) => string;
  /** This component's OTA state directory. */
  readonly stateDir: string;
  readonly run?: RunCommand;
}

export interface BootBackendFactory<Options extends { backend: string }> {
  readonly kind: Options['backend'];
  readonly options: z.ZodType<Options, z.ZodTypeDef, unknown>;
  create(options: Options, deps: BootBackendDeps): BootBackend;
}

const attempts = z.number().int().min(1).max(15).default(3);
const cmdlineParam = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/)
  .default('rauc.slot');

const ubootOptions = z.strictObject({
  backend: z.literal('uboot'),
  /** libubootenv configuration naming the environment device(s): one line, or two for redundancy. */
  fwEnvConfig: z.string().min(1).default('/etc/fw_env.config'),
  /** `fw` runs fw_printenv/fw_setenv; `native` reads and writes the environment image itself. */
  tool: z.enum(['fw', 'native']).default('fw'),
  attempts,
  cmdlineParam,
});

const grubOptions = z.strictObject({
  backend: z.literal('grub'),
  grubenv: z.string().min(1).default('/boot/grub/grubenv'),
  cmdlineParam,
});

const trybootOptions = z.strictObject({
  backend: z.literal('tryboot'),
  autobootTxt: z.string().min(1).default('/boot/firmware/autoboot.txt'),
  partitions: z.strictObject({ A: z.number().int().min(1).max(63), B: z.number().int().min(1).max(63) }),
  bootloaderDir: z.string().min(1).default('/proc/device-tree/chosen/bootloader'),
});

const jetsonOptions = z.strictObject({
  backend: z.literal('jetson'),
  /** nvbootctrl (package nvidia-l4t-tools); a path or a name on PATH. */
  nvbootctrl: z.string().min(1).default('nvbootctrl'),
  /** The firmware's RootfsRetryCountMax (ROOTFS_RETRY_COUNT_MAX at flash time): the attempt budget. */
  retryCountMax: z.number().int().min(1).max(3).default(3),
  /** How the running slot is confirmed: `nvbootctrl -t rootfs verify` (r35.2+) or `mark-boot-successful`. */
  confirm: z.enum(['verify', 'mark-boot-successful']).default('verify'),
});

const bootEntry = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\t\n]+$/, 'expected a boot entry label or a four-digit boot number');

const efiOptions = z.strictObject({
  backend: z.literal('efi'),
  /** efibootmgr; a path or a name on PATH. */
  efibootmgr: z.string().min(1).default('efibootmgr'),
  /** Each slot's boot entry, by label (as `efibootmgr` lists it) or by boot number (`0001`). */
  entries: z.strictObject({ A: bootEntry, B: bootEntry }).default({ A: 'rootfs A', B: 'rootfs B' }),
});

const fileOptions = z.strictObject({
  backend: z.literal('file'),
  file: z.string().min(1),
  attempts,
  cmdlineParam,
});

export const ubootBackend: BootBackendFactory<z.infer<typeof ubootOptions>> = {
  kind: 'uboot',
  options: ubootOptions,
  create(o, deps) {
    const configFile = deps.resolve(o.fwEnvConfig);
    const store =
      o.tool === 'native'
        ? new NativeUbootEnv({ configFile })
        : new FwToolsUbootEnv({ configFile }, deps.run);
    return new AbEnvBackend('uboot', store, deps.bootInfo, {
      attempts: o.attempts,
      cmdlineParam: o.cmdlineParam,
    });
  },
};

export const grubBackend: BootBackendFactory<z.infer<typeof grubOptions>> = {
  kind: 'grub',
  options: grubOptions,
  create: (o, deps) =>
    new GrubBackend({ grubenv: deps.resolve(o.grubenv), cmdlineParam: o.cmdlineParam }, deps.bootInfo),
};

export const trybootBackend: BootBackendFactory<z.infer<typeof trybootOptions>> = {
  kind: 'tryboot',
  options: trybootOptions,
  create: (o, deps) =>
    new TrybootBackend(
      {
        autobootTxt: deps.resolve(o.autobootTxt),
        partitions: o.partitions,
        bootloaderDir: deps.resolve(o.bootloaderDir),
        stateFile: path.join(deps.stateDir, 'tryboot-armed.json'),
      },
      deps.bootInfo,
    ),
};

export const fileBackend: BootBackendFactory<z.infer<typeof fileOptions>> = {
  kind: 'file',
  options: fileOptions,
  create: (o, deps) =>
    new AbEnvBackend('file', new FileEnvStore({ file: deps.resolve(o.file) }), deps.bootInfo, {
      attempts: o.attempts,
      cmdlineParam: o.cmdlineParam,
    }),
};

/** A program named with a slash is a path (relative to the configuration file); else it is looked up on PATH. */
function toolPath(program: string, deps: BootBackendDeps): string {
  return program.includes('/') ? deps.resolve(program) : program;
}

export const jetsonBackend: BootBackendFactory<z.infer<typeof jetsonOptions>> = {
  kind: 'jetson',
  options: jetsonOptions,
  create: (o, deps) =>
    new JetsonBackend(
      {
        nvbootctrl: toolPath(o.nvbootctrl, deps),
        retryCountMax: o.retryCountMax,
        confirm: o.confirm,
        stateFile: path.join(deps.stateDir, 'jetson-marked-bad.json'),
      },
      deps.run,
    ),
};

export const efiBackend: BootBackendFactory<z.infer<typeof efiOptions>> = {
  kind: 'efi',
  options: efiOptions,
  create: (o, deps) =>
    new EfiBackend({ efibootmgr: toolPath(o.efibootmgr, deps), entries: o.entries }, deps.run),
};

export const BOOT_BACKENDS = [
  ubootBackend,
  grubBackend,
  trybootBackend,
  jetsonBackend,
  efiBackend,
  fileBackend,
] as const;

/** The names a `boot.backend` (or a board profile's default) may take. */
export const BOOT_BACKEND_KINDS = ['uboot', 'grub', 'tryboot', 'jetson', 'efi', 'file'] as const;
export type BootBackendKind = (typeof BOOT_BACKEND_KINDS)[number];

/** The `boot:` block of a component: one of the registered backends' options. */
export const bootOptionsSchema = z.discriminatedUnion('backend', [
  ubootOptions,
  grubOptions,
  trybootOptions,
  jetsonOptions,
  efiOptions,
  fileOptions,
]);
export type BootOptions = z.infer<typeof bootOptionsSchema>;

export function createBootBackend(options: BootOptions, deps: BootBackendDeps): BootBackend {
  const factory = BOOT_BACKENDS.find((f) => f.kind === options.backend);
  if (!factory) throw new TypeError(`unknown boot backend ${options.backend}`);
  return (factory as BootBackendFactory<BootOptions>).create(options, deps);
}
