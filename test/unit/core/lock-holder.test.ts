/**
 * Finding who holds a lock: against a lock table written by the test (the formats of /proc/locks: a
 * holder, a waiter, a pid from another namespace, a device that differs from stat's), and against the
 * real kernel with a LevelDB database held open by this very process.
 */
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { findLockHolder } from '../../../agent/core/lock-holder.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-lock-holder-');

/** A lock file and a fake procfs whose lock table holds `lines(major:minor:inode)`. */
async function fakeHost(lines: (id: string, ino: string) => string[]) {
  const dir = await tempDir();
  const file = path.join(dir, 'LOCK');
  await writeFile(file, '');
  const st = await stat(file, { bigint: true });
  const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn);
  const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn);
  const id = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
  const proc = path.join(dir, 'proc');
  await mkdir(proc);
  await writeFile(path.join(proc, 'locks'), `${lines(id, String(st.ino)).join('\n')}\n`);
  const process = async (pid: number, cmdline: string[], fds: Record<string, string> = {}) => {
    await mkdir(path.join(proc, String(pid), 'fd'), { recursive: true });
    await writeFile(path.join(proc, String(pid), 'cmdline'), `${cmdline.join('\0')}\0`);
    for (const [fd, target] of Object.entries(fds))
      await symlink(target, path.join(proc, String(pid), 'fd', fd));
  };
  return { file, proc, process };
}

describe('findLockHolder', () => {
  it('names the process whose POSIX lock is on the file, an edge-agent by its command line', async () => {
    const host = await fakeHost((id) => [
      '1: FLOCK  ADVISORY  WRITE 77 00:1a:99 0 EOF',
      `2: POSIX  ADVISORY  WRITE 1234 ${id} 0 EOF`,
      `2: -> POSIX  ADVISORY  WRITE 555 ${id} 0 EOF`,
    ]);
    await host.process(1234, ['/usr/bin/node', '/usr/lib/edge-agent/dist/agent/main.js', 'run']);
    expect(await findLockHolder(host.file, host.proc, 1)).toEqual({
      held: true,
      holder: { pid: 1234, command: 'edge-agent' },
    });
  });

  it("gives another program's name, and a held lock without a holder for a pid it cannot see", async () => {
    const other = await fakeHost((id) => [`1: POSIX  ADVISORY  WRITE 88 ${id} 0 EOF`]);
    await other.process(88, ['/usr/bin/python3', 'backup.py']);
    expect(await findLockHolder(other.file, other.proc, 1)).toEqual({
      held: true,
      holder: { pid: 88, command: 'python3' },
    });
    const hidden = await fakeHost((id) => [`1: OFDLCK ADVISORY  WRITE -1 ${id} 0 EOF`]);
    expect(await findLockHolder(hidden.file, hidden.proc, 1)).toEqual({ held: true, holder: undefined });
  });

  it('accepts another device for the same inode only when that process has the file open', async () => {
    const host = await fakeHost((_id, ino) => [
      `1: POSIX  ADVISORY  WRITE 300 00:99:${ino} 0 EOF`,
      `2: POSIX  ADVISORY  WRITE 301 00:98:${ino} 0 EOF`,
    ]);
    await host.process(300, ['other'], { '3': '/somewhere/else' });
    await host.process(301, ['edge-agent', 'run'], { '3': '/dev/null', '19': host.file });
    expect(await findLockHolder(host.file, host.proc, 1)).toEqual({
      held: true,
      holder: { pid: 301, command: 'edge-agent' },
    });
  });

  it('reads as not held: no entry, only its own lock, no lock table, no file', async () => {
    const host = await fakeHost((id) => [`1: POSIX  ADVISORY  WRITE 5 ${id} 0 EOF`]);
    expect(await findLockHolder(host.file, host.proc, 5)).toEqual({ held: false, holder: undefined });
    const none = await fakeHost(() => []);
    expect(await findLockHolder(none.file, none.proc, 1)).toEqual({ held: false, holder: undefined });
    expect(await findLockHolder(host.file, path.join(host.proc, 'missing'), 1)).toMatchObject({
      held: false,
    });
    expect(await findLockHolder(`${host.file}.missing`, host.proc, 1)).toMatchObject({ held: false });
  });

  it('finds the real holder of an open LevelDB database in /proc/locks', async () => {
    const dir = path.join(await tempDir(), 'db');
    const db = new Level(dir);
    await db.open();
    try {
      const found = await findLockHolder(path.join(dir, 'LOCK'), '/proc', -1);
      expect(found.held).toBe(true);
      expect(found.holder?.pid).toBe(process.pid);
      expect(await findLockHolder(path.join(dir, 'LOCK'))).toMatchObject({ held: false });
    } finally {
      await db.close();
    }
    expect(await findLockHolder(path.join(dir, 'LOCK'), '/proc', -1)).toMatchObject({ held: false });
  });
});
