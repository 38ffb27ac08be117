/**
 * `kill -9` during heavy ingest loses no acknowledged reading: a child process (the built outbox,
 * test/support/telemetry-ingest-child.mjs) appends as fast as it can and prints the highest reading
 * whose append resolved; after SIGKILL every reading up to that number must be in the database, once.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { nextBootId } from '../../../agent/telemetry/boot-id.js';
import { Outbox } from '../../../agent/telemetry/outbox.js';
import { openTelemetryStore } from '../../../agent/telemetry/store.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-kill9-');
const CHILD = path.join(REPO_ROOT, 'test/support/telemetry-ingest-child.mjs');
const BUILT = path.join(REPO_ROOT, 'dist/agent/telemetry/outbox.js');

/** Runs the ingest child until it has acknowledged at least `minAcked` readings, then SIGKILLs it. */
async function ingestAndKill(dir: string, minAcked: number): Promise<{ acked: number; bootId: string }> {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [CHILD, dir, '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  let acked = -1;
  let bootId = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child acked only ${acked}; stderr: ${stderr}`)), 15_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, arg] = line.split(' ');
      if (word === 'ready') bootId = arg as string;
      if (word === 'acked') acked = Number(arg);
      if (acked >= minAcked && child.exitCode === null && !child.killed) {
        // Mid-stream: more commits are being written right now.
        child.kill('SIGKILL');
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      if (acked < minAcked) reject(new Error(`child exited early; stderr: ${stderr}`));
    });
  });
  expect(await exited).toBe('SIGKILL');
  return { acked, bootId };
}

describe('outbox durability', () => {
  it('keeps every acknowledged reading through kill -9 during heavy ingest, each exactly once', async () => {
    const dir = await tempDir();
    const first = await ingestAndKill(dir, 150_000);
    // A second life on the same database, killed again: boots stay apart, nothing is lost.
    const second = await ingestAndKill(dir, 50_000);

    const store = await openTelemetryStore(dir);
    const outbox = new Outbox(
      {
        clock: new SystemClock(),
        log: silentLogger(),
        store,
        bootId: await nextBootId(store.meta),
        trust: { trusted: true },
      },
      {
        commitIntervalMs: 50,
        commitMaxItems: 1000,
        batchMaxAgeMs: 500,
        batchMaxItems: 1000,
        budgetBytes: 1 << 30,
        downsampleWindowMs: 60_000,
      },
    );
    const opened = await outbox.open();
    expect(opened.quarantined).toBe(0);
    const seen = new Map<string, Uint8Array>();
    for (const boot of [first.bootId, second.bootId]) seen.set(boot, new Uint8Array(250_000));
    let duplicates = 0;
    for (const info of [...outbox.batches()]) {
      outbox.lease(info.id);
      const batch = await outbox.read(info.id);
      if (batch?.content.kind !== 'raw') continue;
      const marks = seen.get(info.bootId) as Uint8Array;
      for (const r of batch.content.readings) {
        const n = r.value as number;
        if (marks[n]) duplicates++;
        marks[n] = 1;
      }
    }
    expect(duplicates).toBe(0);
    for (const [boot, { acked }] of [
      [first.bootId, first],
      [second.bootId, second],
    ] as const) {
      const marks = seen.get(boot) as Uint8Array;
      const missing = [];
      for (let n = 0; n <= acked; n++) if (!marks[n]) missing.push(n);
      expect({ boot, acked, missing: missing.slice(0, 10), missingCount: missing.length }).toEqual({
        boot,
        acked,
        missing: [],
        missingCount: 0,
      });
    }
    expect(first.bootId < second.bootId).toBe(true);
    await outbox.close();
    await store.close();
  }, 40_000);
});
