/**
 * Reads a configuration file (agent.yaml, a wiring file, a board profile); a missing, unreadable,
 * oversized or non-UTF-8 file is a ConfigError naming it, not a stack trace. The size is bounded
 * before anything is parsed: a hand-written configuration is a few KiB, and a 56 MB one took 33 s
 * and 3.8 GB to parse. At most `maxBytes + 1` bytes are ever read, so a FIFO or `/dev/zero` given
 * as `--config` is refused too.
 */
import { open } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';

/** The largest configuration file read (1 MiB). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

export async function readText(file: string, maxBytes = MAX_CONFIG_FILE_BYTES): Promise<string> {
  const bytes = await readBounded(file, maxBytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw cannotRead(file, 'not UTF-8 text (a binary file?)', error);
  }
}

async function readBounded(file: string, maxBytes: number): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const stat = await handle.stat();
    if (stat.isFile() && stat.size > maxBytes) throw tooLarge(file, stat.size, maxBytes);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw tooLarge(file, undefined, maxBytes);
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : String(code);
    throw cannotRead(file, why, error);
  } finally {
    await handle?.close();
  }
}

function tooLarge(file: string, sizeBytes: number | undefined, maxBytes: number): ConfigError {
  const size = sizeBytes === undefined ? `more than ${maxBytes} bytes` : `${sizeBytes} bytes`;
  return new ConfigError(file, [
    {
      path: '',
      message: `file is too large: ${size}, the limit is ${maxBytes} bytes (${maxBytes / 1024} KiB)`,
    },
  ]);
}

function cannotRead(file: string, why: string, cause: unknown): ConfigError {
  return new ConfigError(file, [{ path: '', message: `cannot read: ${why}` }], { cause });
}
