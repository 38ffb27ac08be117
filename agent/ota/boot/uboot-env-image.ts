/**
 * The U-Boot environment on disk (U-Boot `include/env_internal.h`, libubootenv `uboot_env.c`):
 * a little-endian CRC-32 of the data area, then — only for a redundant environment — one flags byte,
 * then `name=value\0` entries ended by an empty string, the rest of the area padding. A redundant
 * environment keeps two copies; the current one is the copy whose CRC is valid, or if both are, the
 * one with the greater flags byte (incrementing, with 255 → 0 wrap), the first on a tie. A write goes
 * to the other copy with flags + 1, so a torn write leaves the current copy intact.
 *
 * `fw_env.config` lines (libubootenv `libuboot_read_config`): `device offset size [sector [count]]`,
 * `#` comments; offset parsed like C's `%lli` (0x hex, leading 0 octal, else decimal) and size like
 * `%zx` (always hex, `0x` optional). Two lines make the environment redundant.
 */
import { crc32 } from 'node:zlib';

export interface FwEnvDevice {
  readonly device: string;
  readonly offset: number;
  readonly sizeBytes: number;
}

export function parseFwEnvConfig(text: string): FwEnvDevice[] {
  const devices: FwEnvDevice[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || !fields[0]) continue;
    const offset = parseCInteger(fields[1]!);
    const sizeBytes = parseHex(fields[2]!);
    if (offset === undefined || sizeBytes === undefined || sizeBytes === 0) {
      throw new SyntaxError(`fw_env.config: bad line ${JSON.stringify(line.trim())}`);
    }
    devices.push({ device: fields[0], offset, sizeBytes });
    if (devices.length === 2) break;
  }
  if (devices.length === 0) throw new SyntaxError('fw_env.config: no environment device');
  if (devices.length === 2 && devices[0]!.sizeBytes !== devices[1]!.sizeBytes) {
    throw new SyntaxError('fw_env.config: the two copies have different sizes');
  }
  return devices;
}

function parseCInteger(s: string): number | undefined {
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(s)) n = Number.parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) n = Number.parseInt(s.slice(1), 8);
  else if (/^\d+$/.test(s)) n = Number.parseInt(s, 10);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

function parseHex(s: string): number | undefined {
  const m = /^(0x)?([0-9a-f]+)$/i.exec(s);
  return m ? Number.parseInt(m[2]!, 16) : undefined;
}

export interface EnvCopy {
  /** The CRC matched. */
  readonly valid: boolean;
  /** Flags byte of a redundant copy, else 0. */
  readonly flags: number;
  readonly vars: Map<string, string>;
}

function headerBytes(redundant: boolean): number {
  return redundant ? 5 : 4;
}

export function decodeEnvImage(image: Uint8Array, redundant: boolean): EnvCopy {
  const header = headerBytes(redundant);
  if (image.length <= header) return { valid: false, flags: 0, vars: new Map() };
  const buf = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const data = buf.subarray(header);
  const valid = buf.readUInt32LE(0) === crc32(data);
  const flags = redundant ? buf[4]! : 0;
  const vars = new Map<string, string>();
  if (!valid) return { valid, flags, vars };
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    const end = data.indexOf(0, pos);
    if (end < 0) return { valid: false, flags, vars: new Map() }; // unterminated: not an environment
    const entry = data.toString('latin1', pos, end);
    const eq = entry.indexOf('=');
    if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
    pos = end + 1;
  }
  return { valid, flags, vars };
}

/** Encodes variables (sorted by name, as libubootenv stores them) into an image of `sizeBytes`. */
export function encodeEnvImage(
  vars: ReadonlyMap<string, string>,
  sizeBytes: number,
  redundant: boolean,
  flags = 0,
): Buffer {
  const header = headerBytes(redundant);
  const image = Buffer.alloc(sizeBytes, 0);
  let pos = header;
  for (const name of [...vars.keys()].sort()) {
    assertVariable(name, vars.get(name)!);
    const entry = Buffer.from(`${name}=${vars.get(name)}\0`, 'latin1');
    // One more byte must remain for the terminating empty string.
    if (pos + entry.length + 1 > sizeBytes) {
      throw new RangeError(`environment does not fit in ${sizeBytes} bytes`);
    }
    entry.copy(image, pos);
    pos += entry.length;
  }
  if (redundant) image[4] = flags & 0xff;
  image.writeUInt32LE(crc32(image.subarray(header)), 0);
  return image;
}

/** Index of the current copy among `copies` (libubootenv's rule), or -1 if none is valid. */
export function currentCopy(copies: readonly EnvCopy[]): number {
  const [a, b] = copies;
  if (!a) return -1;
  if (!b) return a.valid ? 0 : -1;
  if (a.valid && !b.valid) return 0;
  if (!a.valid && b.valid) return 1;
  if (!a.valid && !b.valid) return -1;
  if (a.flags === 0xff && b.flags === 0) return 1;
  if (b.flags === 0xff && a.flags === 0) return 0;
  return b.flags > a.flags ? 1 : 0;
}

export function assertVariable(name: string, value: string): void {
  if (name.length === 0 || /[=\0\n]/.test(name)) {
    throw new TypeError(`environment variable name ${JSON.stringify(name)} is not allowed`);
  }
  if (/[\0\n]/.test(value)) throw new TypeError(`value of ${name} contains NUL or newline`);
}
