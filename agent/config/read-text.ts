/** Reads a configuration file; a missing or unreadable file is a ConfigError, not a stack trace. */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : String(code);
    throw new ConfigError(file, [{ path: '', message: `cannot read: ${why}` }], { cause: error });
  }
}
