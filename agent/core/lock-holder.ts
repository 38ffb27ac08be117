/**
 * Which process holds a POSIX lock on a file — LevelDB holds an fcntl lock on its `LOCK` file for as
 * long as the database is open — read from the kernel's lock table, `/proc/locks` (what `lslocks`
 * reads): each line gives the lock's pid and the device and inode of the locked file. That is one read
 * of a small file rather than a walk through every process's descriptors. A line with the right inode
 * but another device (btrfs subvolumes and overlayfs report another device to `stat` than the lock
 * table does) counts only when that process has the file open (`/proc/<pid>/fd`). A pid of 0 or -1 (a
 * process in another pid namespace, an open-file-description lock) means held by someone we cannot
 * name. Whatever cannot be read (no /proc, no such file) reads as "not held": the caller's own attempt
 * to take the lock stays the authority.
 */
import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LockHolder } from './errors.js';

export interface LockState {
  readonly held: boolean;
  /** The process that holds it, when it could be named. */
  readonly holder: LockHolder | undefined;
}

const NOT_HELD: LockState = { held: false, holder: undefined };

/** `<id>: [-> ]<class> <mode> <rw> <pid> <major>:<minor>:<inode> <start> <end>`; `->` marks a waiter. */
const LOCK_LINE = /^\d+:\s+(->\s+)?\S+\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/;

/**
 * The lock on `file` held by a process other than `selfPid`, from `<procDir>/locks`. `procDir` is
 * `HostPaths.proc` (tests point it at a directory of their own).
 */
export async function findLockHolder(
  file: string,
  procDir = '/proc',
  selfPid: number = process.pid,
): Promise<LockState> {
  let target: { dev: bigint; ino: bigint };
  let table: string;
  try {
    target = await stat(file, { bigint: true });
    table = await readFile(path.join(procDir, 'locks'), 'utf8');
  } catch {
    return NOT_HELD;
  }
  const major = ((target.dev >> 8n) & 0xfffn) | ((target.dev >> 32n) & ~0xfffn);
  const minor = (target.dev & 0xffn) | ((target.dev >> 12n) & ~0xffn);
  const sameInode: number[] = [];
  for (const line of table.split('\n')) {
    const m = LOCK_LINE.exec(line);
    if (!m || m[1] || BigInt(m[5]!) !== target.ino) continue;
    const pid = Number(m[2]);
    if (pid === selfPid) continue;
    if (BigInt(`0x${m[3]}`) === major && BigInt(`0x${m[4]}`) === minor) {
      return { held: true, holder: pid > 0 ? await describeProcess(pid, procDir) : undefined };
    }
    if (pid > 0) sameInode.push(pid);
  }
  for (const pid of sameInode) {
    if (await hasOpen(pid, file, procDir)) return { held: true, holder: await describeProcess(pid, procDir) };
  }
  return NOT_HELD;
}

/** The pid and, from its command line, whether it is an edge-agent (else its program's name). */
async function describeProcess(pid: number, procDir: string): Promise<LockHolder> {
  const args = await readFile(path.join(procDir, String(pid), 'cmdline'), 'utf8')
    .then((text) => text.split('\0').filter(Boolean))
    .catch(() => [] as string[]);
  if (args.some((a) => path.basename(a) === 'edge-agent' || /(^|\/)agent\/main\.js$/.test(a))) {
    return { pid, command: 'edge-agent' };
  }
  return { pid, command: args[0] === undefined ? undefined : path.basename(args[0]) };
}

async function hasOpen(pid: number, file: string, procDir: string): Promise<boolean> {
  const fdDir = path.join(procDir, String(pid), 'fd');
  const wanted = await realpath(file).catch(() => path.resolve(file));
  const fds = await readdir(fdDir).catch(() => [] as string[]);
  for (const fd of fds) {
    if ((await readlink(path.join(fdDir, fd)).catch(() => undefined)) === wanted) return true;
  }
  return false;
}
