/**
 * Measurements: SHA-256 digests of what the device runs. A slot image (file or block device) is hashed
 * as a byte stream; a directory (the agent's bundle, a `dir` slot) as a tree — entries sorted by their
 * relative POSIX path (byte order), each contributing `<type> <mode> <path>\0` and then the SHA-256 of
 * its content (file) or its link target (symlink), so renaming, adding, removing, chmod-ing or editing
 * any entry changes the digest, and the order `readdir` returns does not. The effective configuration is
 * hashed as canonical JSON (keys sorted, after defaults and environment overrides), the board profile
 * as the bytes of its file. Memory stays at one read buffer per file.
 */
import { createHash } from 'node:crypto';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

const CHUNK_BYTES = 256 * 1024;

export async function measureFile(file: string): Promise<Uint8Array> {
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    // One buffer for the whole file, no larger than it: a tree of small files (the agent's code) must
    // not cost a megabyte per file in garbage. A block device reports size 0 and gets the full chunk.
    const buffer = Buffer.allocUnsafe(size > 0 && size < CHUNK_BYTES ? size : CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return new Uint8Array(hash.digest());
}

/** The tree digest of `dir`; entries whose relative path `skip` accepts are left out (and not entered). */
export async function measureTree(
  dir: string,
  skip: (relPath: string) => boolean = () => false,
): Promise<Uint8Array> {
  const tree = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(path.join(dir, rel))).sort((a, b) =>
      Buffer.compare(Buffer.from(a), Buffer.from(b)),
    );
    for (const name of names) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      if (skip(relPath)) continue;
      const full = path.join(dir, relPath);
      const st = await lstat(full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        tree.update(`d ${mode} ${relPath}\0`);
        await walk(relPath);
      } else if (st.isSymbolicLink()) {
        tree.update(`l ${mode} ${relPath}\0`);
        tree.update(
          createHash('sha256')
            .update(await readlink(full))
            .digest(),
        );
      } else if (st.isFile()) {
        tree.update(`f ${mode} ${relPath}\0`);
        tree.update(await measureFile(full));
      } else {
        tree.update(`o ${mode} ${relPath}\0`); // sockets, fifos: present, content-less
      }
    }
  };
  await walk('');
  return new Uint8Array(tree.digest());
}

/** SHA-256 of `value` as canonical JSON: object keys sorted, no whitespace, `undefined` left out. */
export function measureValue(value: unknown): Uint8Array {
  return new Uint8Array(createHash('sha256').update(canonicalJson(value)).digest());
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
