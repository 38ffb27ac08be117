/**
 * Seeded damage to a LevelDB directory, as a failing SD card does it: bytes flipped (a run or scattered)
 * or a file cut short. The same seed damages the same bytes of the same file, so a failing case is
 * reproduced by its seed alone.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seededRandom as simRandom } from '../../agent/hal/sim/random.js';

/** The files of a LevelDB directory, by what they hold. */
export type LevelFileType = 'ldb' | 'log' | 'MANIFEST' | 'CURRENT' | 'LOG';

const MATCHERS: Record<LevelFileType, (name: string) => boolean> = {
  ldb: (f) => /^\d+\.(ldb|sst)$/.test(f),
  log: (f) => /^\d+\.log$/.test(f),
  MANIFEST: (f) => f.startsWith('MANIFEST-'),
  CURRENT: (f) => f === 'CURRENT',
  LOG: (f) => f === 'LOG',
};

/** mulberry32 values in [0, 1) from `seed` (the simulated world's generator). */
export function seededRandom(seed: number): () => number {
  return simRandom(seed).next;
}

/** The files of `type` in `dir`, sorted by name. */
export async function levelFiles(dir: string, type: LevelFileType): Promise<string[]> {
  return (await readdir(dir)).filter(MATCHERS[type]).sort();
}

/**
 * Damages one file of `type` (chosen by `random`): flips a run of up to 60 bytes, flips up to 8
 * scattered bytes, or truncates it. Returns what it did, for the failure message.
 */
export async function corruptOne(dir: string, type: LevelFileType, random: () => number): Promise<string> {
  const files = await levelFiles(dir, type);
  const name = files[Math.floor(random() * files.length)];
  if (name === undefined) throw new Error(`no ${type} file in ${dir}`);
  const file = path.join(dir, name);
  const bytes = await readFile(file);
  const pick = (n: number) => Math.floor(random() * n);
  const mode = random();
  let did: string;
  let out: Buffer = bytes;
  if (bytes.length === 0 || mode < 1 / 3) {
    const length = pick(bytes.length);
    out = bytes.subarray(0, length);
    did = `truncated ${name} from ${bytes.length} to ${length} bytes`;
  } else if (mode < 2 / 3) {
    const run = Math.min(bytes.length, 1 + pick(60));
    const at = pick(bytes.length - run + 1);
    for (let i = at; i < at + run; i++) out[i] = (out[i] as number) ^ (1 + pick(255));
    did = `flipped ${run} bytes of ${name} (${bytes.length}) at ${at}`;
  } else {
    const at: number[] = [];
    for (let i = 1 + pick(8); i > 0; i--) {
      const p = pick(bytes.length);
      out[p] = (out[p] as number) ^ (1 << pick(8));
      at.push(p);
    }
    did = `flipped bits of ${name} (${bytes.length}) at ${at.join(',')}`;
  }
  await writeFile(file, out);
  return did;
}
