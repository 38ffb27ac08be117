/**
 * File backend: RAUC's A/B variables (`BOOT_ORDER`, `BOOT_A_LEFT`, `BOOT_B_LEFT`) in a plain
 * `name=value` text file, replaced atomically at every write. For slots that no firmware boots — the
 * agent's own bundle directories, chosen by the launcher — and for simulated boards; the device
 * emulator applies the same boot rules to it as to the U-Boot environment. A missing file is an empty
 * environment (the rules' defaults apply).
 */
import { readFile } from 'node:fs/promises';
import { writeDurable } from '../../core/durable-file.js';
import { applyChanges, type BootVarChanges } from './boot-order.js';
import { assertVariable } from './uboot-env-image.js';
import type { UbootEnvStore } from './uboot-env-store.js';

export class FileEnvStore implements UbootEnvStore {
  readonly #file: string;

  constructor(options: { file: string }) {
    this.#file = options.file;
  }

  async read(): Promise<Map<string, string>> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw e;
    }
    return parseEnvText(text);
  }

  async write(changes: BootVarChanges): Promise<void> {
    const next = applyChanges(await this.read(), changes);
    await writeDurable(this.#file, formatEnvText(next), { mode: 0o644 });
  }
}

/** `name=value` lines (`#` comments and blank lines ignored), as `fw_printenv` prints them. */
export function parseEnvText(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return vars;
}

export function formatEnvText(vars: ReadonlyMap<string, string>): string {
  return [...vars.keys()]
    .sort()
    .map((k) => {
      assertVariable(k, vars.get(k)!);
      return `${k}=${vars.get(k)}\n`;
    })
    .join('');
}
