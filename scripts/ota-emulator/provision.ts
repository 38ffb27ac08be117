/**
 * Provisioning of an emulated device, as a factory would flash one: a redundant U-Boot environment
 * (two copies in one file, `fw_env.config` naming both), a file-backend environment, and slot A
 * holding a factory image while slot B is empty and marked bad (`BOOT_ORDER=A`, `BOOT_B_LEFT=0`).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatEnvText } from '../../agent/ota/boot/file.js';
import { encodeEnvImage } from '../../agent/ota/boot/uboot-env-image.js';

export const ENV_COPY_BYTES = 0x4000;

/** Writes `envFile` with both copies of `vars` and a `fw_env.config` naming them; returns the config path. */
export async function writeRedundantUbootEnv(
  envFile: string,
  configFile: string,
  vars: ReadonlyMap<string, string>,
  copyBytes = ENV_COPY_BYTES,
): Promise<void> {
  await mkdir(path.dirname(envFile), { recursive: true });
  const copy = encodeEnvImage(vars, copyBytes, true, 1);
  await writeFile(envFile, Buffer.concat([copy, copy]));
  const hex = (n: number) => `0x${n.toString(16)}`;
  await writeFile(
    configFile,
    `# device offset size — two copies: a redundant environment\n${envFile} ${hex(0)} ${hex(copyBytes)}\n${envFile} ${hex(copyBytes)} ${hex(copyBytes)}\n`,
  );
}

export const FACTORY_BOOT_VARS: ReadonlyMap<string, string> = new Map([
  ['BOOT_ORDER', 'A'],
  ['BOOT_A_LEFT', '3'],
  ['BOOT_B_LEFT', '0'],
  ['bootcmd', 'run distro_bootcmd'],
]);

export async function writeFileEnv(
  file: string,
  vars: ReadonlyMap<string, string> = FACTORY_BOOT_VARS,
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, formatEnvText(new Map([...vars].filter(([k]) => k.startsWith('BOOT_')))));
}

/** A deterministic pseudo-random image with a readable header (`label`), `sizeBytes` long. */
export function fakeImage(label: string, sizeBytes: number): Buffer {
  const image = Buffer.alloc(sizeBytes);
  let block = createHash('sha256').update(label).digest();
  for (let pos = 0; pos < sizeBytes; pos += block.length) {
    block.copy(image, pos);
    block = createHash('sha256').update(block).digest();
  }
  Buffer.from(`EDGE-SIM-ROOTFS ${label}\n`, 'latin1').copy(image, 0);
  return image;
}
