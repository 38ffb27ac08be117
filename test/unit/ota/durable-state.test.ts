import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDurable } from '../../../agent/core/durable-file.js';
import { CommittedStore } from '../../../agent/ota/committed-state.js';
import { Journal } from '../../../agent/ota/journal.js';
import { ReportQueue } from '../../../agent/ota/report-queue.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-state-');
const isRecord = (v: unknown): v is { step: string } => typeof (v as { step?: unknown })?.step === 'string';

describe('the journal', () => {
  it('is empty, then holds exactly the last record saved, then is cleared', async () => {
    const journal = new Journal(path.join(await newDir(), 'ota/install.json'), isRecord);
    expect(await journal.load()).toEqual({ kind: 'empty' });
    await journal.save({ step: 'one' });
    await journal.save({ step: 'two' });
    expect(await journal.load()).toEqual({ kind: 'record', record: { step: 'two' } });
    await journal.clear();
    await journal.clear();
    expect(await journal.load()).toEqual({ kind: 'empty' });
  });

  it('says corrupt rather than guessing at a damaged or foreign file', async () => {
    const dir = await newDir();
    const file = path.join(dir, 'install.json');
    const journal = new Journal(file, isRecord);
    await writeFile(file, '{"step": "tw');
    expect(await journal.load()).toMatchObject({ kind: 'corrupt' });
    await writeFile(file, '{"phase": 3}');
    expect(await journal.load()).toEqual({ kind: 'corrupt', error: 'unexpected shape' });
  });

  it('replaces files through a temporary name, leaving no temporary behind', async () => {
    const dir = await newDir();
    await writeDurable(path.join(dir, 'x.json'), 'new');
    expect(await readdir(dir)).toEqual(['x.json']);
    expect(await readFile(path.join(dir, 'x.json'), 'utf8')).toBe('new');
  });
});

describe('the report queue', () => {
  const report = (id: string, state: 'installed' | 'committed') => ({
    id,
    installId: id.split('.')[0]!,
    state,
    component: 'rootfs',
    version: '2.0.0',
    seq: 7,
    targetSlot: 'B',
    bootedSlot: 'B',
    wallMs: 0,
  });

  it('keeps reports oldest first until acknowledged, across instances (reboots)', async () => {
    const dir = path.join(await newDir(), 'reports');
    await new ReportQueue(dir).put(report('r1.installed', 'installed'));
    await new ReportQueue(dir).put(report('r1.committed', 'committed'));
    const queue = new ReportQueue(dir);
    expect((await queue.pending()).map((r) => [r.id, r.order])).toEqual([
      ['r1.installed', 1],
      ['r1.committed', 2],
    ]);
    await queue.ack('r1.installed');
    await queue.ack('r1.installed');
    expect((await queue.pending()).map((r) => r.id)).toEqual(['r1.committed']);
  });

  it('replaces a report put again under the same id, keeping its place', async () => {
    const queue = new ReportQueue(await newDir());
    await queue.put(report('a.installed', 'installed'));
    await queue.put(report('b.installed', 'installed'));
    await queue.put({ ...report('a.installed', 'installed'), version: '2.0.1' });
    expect((await queue.pending()).map((r) => [r.id, r.version, r.order])).toEqual([
      ['a.installed', '2.0.1', 1],
      ['b.installed', '2.0.0', 2],
    ]);
    await expect(queue.put(report('../escape', 'installed'))).rejects.toThrow(TypeError);
  });
});

describe('the committed state', () => {
  it('remembers the seq per component and never lets the trusted time go back', async () => {
    const store = new CommittedStore(path.join(await newDir(), 'committed.json'));
    expect(await store.seqOf('rootfs')).toBe(0);
    await store.record('rootfs', { seq: 7, version: '2.0.0', slot: 'B', wallMs: 1 }, 5000);
    await store.record('agent', { seq: 3, version: '0.3.0', slot: 'A', wallMs: 2 }, 1000);
    expect(await store.seqOf('rootfs')).toBe(7);
    expect((await store.load()).trustedTimeMs).toBe(5000);
  });
});
