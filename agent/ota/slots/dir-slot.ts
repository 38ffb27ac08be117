/**
 * Directory slots (the agent's own bundle, a `tar` payload). The verified tar is unpacked into
 * `<slot>.new`, every file and directory fsynced, then swapped in: the old slot directory is removed
 * and `<slot>.new` renamed over it, and the parent fsynced. The slot was marked bad before, so a power
 * cut in the middle leaves a slot nobody boots; the next attempt starts the unpacking over. A failed
 * unpack removes `<slot>.new` before it throws, and throws why it failed.
 *
 * Read-back compares the slot with the tar entry by entry (type, size, SHA-256 of contents, link
 * target). Unpacking is strict: absolute paths and `..` are refused (node-tar's defaults), and only
 * files, directories and symbolic links are allowed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { extract, list } from 'tar';
import { fsyncDir } from '../../core/durable-file.js';
import { errorMessage } from '../../core/errors.js';
import { InstallError } from '../install-errors.js';

const STAGING_REMOVAL = { recursive: true, force: true, maxRetries: 20, retryDelay: 25 } as const;
const ALLOWED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink']);

export async function unpackIntoSlot(tarFile: string, slotDir: string): Promise<void> {
  const staging = `${slotDir}.new`;
  await rm(staging, { recursive: true, force: true });
  try {
    await mkdir(staging, { recursive: true });
    await extractInto(tarFile, staging);
    await syncTree(staging);
  } catch (e) {
    // A refused or broken tar (node-tar's decompression-ratio limit, a truncated archive, a full disk)
    // must not leave what it unpacked so far taking the slot filesystem's room. node-tar rejects on the
    // first error while files it began to write are still being created, so the removal retries on
    // ENOTEMPTY until they have landed; and a failed clean-up (the next attempt repeats it) never hides
    // why the unpack failed.
    await rm(staging, STAGING_REMOVAL).catch(() => undefined);
    throw e;
  }
  await rm(slotDir, { recursive: true, force: true });
  await rename(staging, slotDir);
  await fsyncDir(path.dirname(slotDir));
}

async function extractInto(tarFile: string, staging: string): Promise<void> {
  const refused: string[] = [];
  try {
    await extract({
      file: tarFile,
      cwd: staging,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      filter: (p, entry) => {
        const type = 'type' in entry ? entry.type : undefined;
        if (type !== undefined && !ALLOWED.has(type)) {
          refused.push(`${p} (${type})`);
          return false;
        }
        return true;
      },
    });
  } catch (e) {
    throw new InstallError('EPAYLOAD', 'bad-tar', `cannot unpack ${tarFile}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  if (refused.length > 0) {
    throw new InstallError(
      'EPAYLOAD',
      'bad-tar',
      `tar holds entries of refused types: ${refused.join(', ')}`,
    );
  }
}

/** Differences between the tar and the unpacked slot; empty when they agree. */
export async function compareSlotWithTar(tarFile: string, slotDir: string): Promise<string[]> {
  const problems: string[] = [];
  const checks: Promise<void>[] = [];
  await list({
    file: tarFile,
    onReadEntry: (entry) => {
      const rel = path.normalize(entry.path);
      const target = path.join(slotDir, rel);
      if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') {
        const hash = createHash('sha256');
        entry.on('data', (d: Buffer) => hash.update(d));
        checks.push(
          new Promise<void>((resolve) => entry.on('end', resolve)).then(async () => {
            const want = hash.digest('hex');
            const got = await fileDigest(target).catch(() => undefined);
            if (got !== want) problems.push(`${rel}: contents differ`);
          }),
        );
        return;
      }
      entry.resume();
      if (entry.type === 'Directory') {
        checks.push(
          lstat(target).then(
            (s) => void (s.isDirectory() || problems.push(`${rel}: not a directory`)),
            () => void problems.push(`${rel}: missing`),
          ),
        );
      } else if (entry.type === 'SymbolicLink') {
        const want = entry.linkpath;
        checks.push(
          readlink(target).then(
            (got) => void (got === want || problems.push(`${rel}: link differs`)),
            () => void problems.push(`${rel}: missing link`),
          ),
        );
      }
    },
  });
  await Promise.all(checks);
  return problems;
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const d of createReadStream(file) as AsyncIterable<Buffer>) hash.update(d);
  return hash.digest('hex');
}

/** fsyncs every regular file and directory below `dir` (node-tar does not). */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(p);
    else if (entry.isFile()) {
      const handle = await open(p, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }
  await fsyncDir(dir);
}
