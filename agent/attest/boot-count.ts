/**
 * Boot count and boot seed for evidence (RFC 9711 §4.2.12, §4.2.13). The seed is the kernel's boot id
 * (`/proc/sys/kernel/random/boot_id`, a random UUID made at every boot: the same for all evidence of one
 * boot, not a secret). The count is kept in the state directory and increases when the agent first
 * starts under a boot id it has not seen, so it counts the boots the agent ran in, written durably
 * before it is reported. Where there is no boot id (not Linux), every agent start counts as a boot.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readIfExists, writeDurable } from '../core/durable-file.js';

/** The boot count and boot seed claims of attestation evidence (not OTA's BootSlotInfo). */
export interface BootClaims {
  readonly bootCount: number;
  /** 16 bytes: the boot id UUID. */
  readonly bootSeed: Uint8Array;
}

export const LINUX_BOOT_ID = '/proc/sys/kernel/random/boot_id';

export async function countBoot(
  stateFile: string,
  bootIdFile: string = LINUX_BOOT_ID,
  random: (n: number) => Uint8Array = randomBytes,
): Promise<BootClaims> {
  const bootSeed = (await readBootId(bootIdFile)) ?? new Uint8Array(random(16));
  const seedHex = Buffer.from(bootSeed).toString('hex');
  const previous = parse(await readIfExists(stateFile));
  if (previous?.bootId === seedHex) return { bootCount: previous.count, bootSeed };
  const bootCount = (previous?.count ?? 0) + 1;
  await writeDurable(stateFile, `${JSON.stringify({ v: 1, bootId: seedHex, count: bootCount })}\n`, {
    mode: 0o644,
  });
  return { bootCount, bootSeed };
}

async function readBootId(file: string): Promise<Uint8Array | undefined> {
  try {
    const hexText = (await readFile(file, 'utf8')).trim().replaceAll('-', '');
    return /^[0-9a-f]{32}$/i.test(hexText) ? new Uint8Array(Buffer.from(hexText, 'hex')) : undefined;
  } catch {
    return undefined;
  }
}

function parse(text: Buffer | undefined): { bootId: string; count: number } | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text.toString('utf8')) as { bootId?: unknown; count?: unknown };
    if (
      typeof v.bootId === 'string' &&
      typeof v.count === 'number' &&
      Number.isSafeInteger(v.count) &&
      v.count >= 0
    ) {
      return { bootId: v.bootId, count: v.count };
    }
  } catch {
    // a torn or foreign file restarts the count rather than stopping the agent
  }
  return undefined;
}
