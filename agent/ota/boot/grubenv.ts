/**
 * GRUB's environment block (grub `lib/envblk.c`, what `load_env`/`save_env` and `grub-editenv`
 * read and write): exactly 1024 bytes, the signature line `# GRUB Environment Block`, then one
 * `name=value` line per variable, the rest filled with `#`. In values, a backslash and a newline are
 * escaped with a backslash. GRUB rewrites the block in place, so it must keep its size.
 *
 * Parsing is lenient where the real world is: a missing or empty file is an empty environment, and a
 * short block (truncated, or written by a tool that did not pad) yields the variables it holds. Bytes
 * that do not start with the signature are not a GRUB environment and are refused.
 */
import { InstallError } from '../install-errors.js';

export const GRUBENV_BYTES = 1024;
export const GRUBENV_SIGNATURE = '# GRUB Environment Block\n';

export function parseGrubenv(block: Uint8Array): Map<string, string> {
  const vars = new Map<string, string>();
  if (block.length === 0) return vars;
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('latin1');
  if (!text.startsWith(GRUBENV_SIGNATURE)) {
    // A block cut short inside the signature itself is still ours (a write torn at the start).
    if (!GRUBENV_SIGNATURE.startsWith(text)) {
      throw new InstallError('EBOOT_ENV', 'boot-env', 'not a GRUB environment block (no signature)');
    }
    return vars;
  }
  let pos = GRUBENV_SIGNATURE.length;
  while (pos < text.length) {
    // Find the end of this logical line: a newline not preceded by an escaping backslash.
    let end = pos;
    let value = '';
    let escaped = false;
    for (; end < text.length; end++) {
      const c = text[end]!;
      if (escaped) {
        value += c;
        escaped = false;
      } else if (c === '\\') escaped = true;
      else if (c === '\n') break;
      else value += c;
    }
    if (!value.startsWith('#')) {
      const eq = value.indexOf('=');
      if (eq > 0) vars.set(value.slice(0, eq), value.slice(eq + 1));
    }
    pos = end + 1;
  }
  return vars;
}

export function encodeGrubenv(vars: ReadonlyMap<string, string>): Buffer {
  let text = GRUBENV_SIGNATURE;
  for (const [name, value] of vars) {
    if (name.length === 0 || /[=\n\\#]/.test(name[0]!) || /[=\n]/.test(name)) {
      throw new TypeError(`GRUB variable name ${JSON.stringify(name)} is not allowed`);
    }
    text += `${name}=${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\\n')}\n`;
  }
  if (Buffer.byteLength(text, 'latin1') > GRUBENV_BYTES) {
    throw new InstallError('EBOOT_ENV', 'boot-env', 'GRUB environment block is full (1024 bytes)');
  }
  return Buffer.from(text.padEnd(GRUBENV_BYTES, '#'), 'latin1');
}
