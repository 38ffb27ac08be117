/**
 * A damaged telemetry database never stops the agent (issue 20, point 3). 50 seeds for each file type
 * of a small real LevelDB (tables, the write-ahead log, the manifest, CURRENT, and LevelDB's own text
 * LOG), 250 cases: each damages one file of its type — bytes flipped or the file cut short — and
 * telemetry starts on it the way the agent does. Every time: it comes up, it delivers what the surviving data
 * holds (the outbox empties, nothing it delivers is invented), it takes new readings, and a lost table
 * reading is never silent. Damage that leaves the tables intact (the log, the manifest, CURRENT, LOG)
 * costs none of the readings in them; damage to the manifest, CURRENT or LOG costs none at all.
 * A case is reproduced by its seed: the baseline database is the same bytes on every run.
 */
import { cp, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corruptOne, type LevelFileType, levelFiles, seededRandom } from '../../support/corrupt-files.js';
import { type Baseline, writeBaseline } from '../../support/telemetry-baseline.js';
import { FUZZ_POINT, startTelemetry } from '../../support/telemetry-harness.js';
import { tempDirs } from '../../support/temp-dir.js';

const SEEDS = 50;
const TYPES: readonly LevelFileType[] = ['ldb', 'log', 'MANIFEST', 'CURRENT', 'LOG'];
/** Damage to these leaves every table readable. */
const TABLES_INTACT = new Set<LevelFileType>(['log', 'MANIFEST', 'CURRENT', 'LOG']);
/** Damage to these leaves every table and the log readable: repair rebuilds the manifest from them. */
const DATA_INTACT = new Set<LevelFileType>(['MANIFEST', 'CURRENT', 'LOG']);
const NEW_READING = 777_777;

const tempDir = tempDirs('edge-corrupt-fuzz-');
let baseDir = '';
let baseline: Baseline;

beforeAll(async () => {
  baseDir = path.join(await mkdtemp(path.join(tmpdir(), 'edge-corrupt-base-')), 'telemetry');
  baseline = await writeBaseline(baseDir);
});
afterAll(() => rm(path.dirname(baseDir), { recursive: true, force: true }));

async function damagedCopy(seed: number, type: LevelFileType): Promise<{ stateDir: string; did: string }> {
  const stateDir = await tempDir();
  const dir = path.join(stateDir, 'telemetry');
  await mkdir(dir);
  await cp(baseDir, dir, { recursive: true });
  const did = await corruptOne(dir, type, seededRandom(seed * 31 + TYPES.indexOf(type)));
  return { stateDir, did };
}

describe('telemetry on a damaged database', () => {
  const cases = TYPES.flatMap((type) =>
    Array.from({ length: SEEDS }, (_, seed): [number, LevelFileType] => [seed, type]),
  );
  it.each(cases)('seed %i: damaged %s', async (seed, type) => {
    {
      const { stateDir, did } = await damagedCopy(seed, type);
      const context = `seed ${seed}, ${did}`;
      const h = await startTelemetry(stateDir).catch((error: unknown) => {
        throw new Error(`${context}: telemetry did not start: ${String(error)}`);
      });
      try {
        const delivered = await h.deliverAll();
        const known = new Set([...baseline.tabled, ...baseline.logged]);
        const invented = [...delivered.values].filter((v) => !known.has(v));
        expect(invented, `${context}: readings nobody wrote`).toEqual([]);
        const lostTabled = baseline.tabled.filter((v) => !delivered.values.has(v));
        if (TABLES_INTACT.has(type)) expect(lostTabled, `${context}: readings of intact tables`).toEqual([]);
        const lostLogged = baseline.logged.filter((v) => !delivered.values.has(v));
        if (DATA_INTACT.has(type)) expect(lostLogged, `${context}: readings of the intact log`).toEqual([]);
        const reported = delivered.events.some((e) =>
          ['telemetry.recovered', 'telemetry.quarantine'].includes(e.type),
        );
        if (lostTabled.length > 0)
          expect(reported, `${context}: ${lostTabled.length} lost unreported`).toBe(true);

        h.points.update(FUZZ_POINT, NEW_READING, 'test');
        const after = await h.deliverAll();
        expect([...after.values], `${context}: a new reading after the damage`).toEqual([NEW_READING]);
      } finally {
        await h.telemetry.stop();
      }
    }
  });
});

describe('telemetry on a table with 60 bytes flipped (the attack of issue 20, point 3)', () => {
  it('starts, repairs, reports it and delivers only readings that were written', async () => {
    const stateDir = await tempDir();
    const dir = path.join(stateDir, 'telemetry');
    await mkdir(dir);
    await cp(baseDir, dir, { recursive: true });
    const [table] = await levelFiles(dir, 'ldb');
    const bytes = await readFile(path.join(dir, table as string));
    for (let i = 0; i < 60; i++) bytes[i] = (bytes[i] as number) ^ 0xff;
    await writeFile(path.join(dir, table as string), bytes);
    const h = await startTelemetry(stateDir);
    try {
      const delivered = await h.deliverAll();
      const recovered = delivered.events.filter((e) => e.type === 'telemetry.recovered');
      expect(recovered.map((e) => e.data)).toEqual([
        expect.objectContaining({
          how: 'repaired',
          during: 'start',
          error: expect.stringMatching(/Corruption/),
        }),
      ]);
      const known = new Set([...baseline.tabled, ...baseline.logged]);
      expect([...delivered.values].filter((v) => !known.has(v))).toEqual([]);
      expect(baseline.logged.every((v) => delivered.values.has(v))).toBe(true);
    } finally {
      await h.telemetry.stop();
    }
  });
});

describe('telemetry on tables without CURRENT (issue 20, point 7)', () => {
  it('repairs instead of starting empty, delivers the whole backlog and reports it', async () => {
    const stateDir = await tempDir();
    const dir = path.join(stateDir, 'telemetry');
    await mkdir(dir);
    await cp(baseDir, dir, { recursive: true });
    await unlink(path.join(dir, 'CURRENT'));
    const h = await startTelemetry(stateDir);
    try {
      const delivered = await h.deliverAll();
      expect([...delivered.values].sort((a, b) => a - b)).toEqual([...baseline.tabled, ...baseline.logged]);
      const recovered = delivered.events.filter((e) => e.type === 'telemetry.recovered');
      expect(recovered.map((e) => e.data)).toEqual([
        { how: 'repaired', during: 'start', error: 'CURRENT missing: tables without a manifest' },
      ]);
    } finally {
      await h.telemetry.stop();
    }
  });
});
