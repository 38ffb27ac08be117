/**
 * Corruption LevelDB reports while the agent runs (issue 20, point 3): a table written after start is
 * damaged on disk (its first block overwritten, as a failing card does it); the read that meets it
 * makes telemetry repair the database and reopen the outbox on it. It keeps running, reports
 * `telemetry.recovered` (during `operation`, with what was lost), and delivers what survived and
 * what arrives afterwards.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { FUZZ_POINT, startTelemetry } from '../../support/telemetry-harness.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-corrupt-running-');

it('repairs a table damaged while running, reports it and keeps delivering', async () => {
  const stateDir = await tempDir();
  const dir = path.join(stateDir, 'telemetry');
  const h = await startTelemetry(stateDir);
  try {
    for (let v = 0; v < 200; v++) {
      h.points.update(FUZZ_POINT, v, 'test');
      await h.run(10);
    }
    await h.run(200);
    const before = h.opened.at(-1);
    await before?.store.compact(); // into a table whose blocks nothing has read (none cached)
    await before?.idle();
    for (const f of (await readdir(dir)).filter((name) => name.endsWith('.ldb'))) {
      const bytes = await readFile(path.join(dir, f));
      for (let i = 0; i < Math.min(64, bytes.length); i++) bytes[i] = (bytes[i] as number) ^ 0xa5;
      await writeFile(path.join(dir, f), bytes);
    }

    const delivered = await h.deliverAll();
    expect(h.opened.length, 'the database was reopened').toBeGreaterThan(1);
    const recovered = delivered.events.filter((e) => e.type === 'telemetry.recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.data).toMatchObject({ during: 'operation' });
    expect(typeof recovered[0]?.data.error).toBe('string');
    for (const v of delivered.values) expect(v).toBeLessThan(200);

    h.points.update(FUZZ_POINT, 777, 'test');
    const after = await h.deliverAll();
    expect([...after.values]).toEqual([777]);
  } finally {
    await h.telemetry.stop();
  }
});
