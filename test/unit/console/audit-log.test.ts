/**
 * The audit log against entries a hostile peer could make huge, and its rotation through several
 * generations (issue 20, point 2).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_AUDIT_FIELD_CHARS, MAX_AUDIT_WHO_CHARS } from '../../../agent/console/audit-bounds.js';
import { AUDIT_FILE, AuditLog } from '../../../agent/console/audit-log.js';
import { silentLogger } from '../../../agent/core/log.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-audit-');
const MiB = 1024 * 1024;

async function lines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('AuditLog bounds', () => {
  it('cuts every field of a megabyte entry with a marker, so it cannot rotate the history away', async () => {
    const dir = await tempDir();
    const audit = new AuditLog({ clock: new FakeClock(), log: silentLogger() }, { stateDir: dir });
    for (let i = 0; i < 10; i++) {
      void audit.record({
        event: 'command',
        session: 'socket#1',
        who: 'tech',
        what: `status ${i}`,
        result: 'ok',
      });
    }
    const huge = 'A'.repeat(MiB);
    for (let i = 0; i < 2; i++) {
      void audit.record({
        event: 'login-failed',
        session: `socket#${huge}`,
        who: `${huge}\n{"forged":true}`,
        what: huge,
        command: huge,
        args: { blob: huge },
        result: huge,
        code: huge,
        message: huge,
      });
    }
    await audit.flush();
    expect(await readdir(dir)).toEqual([AUDIT_FILE]);
    const entries = await lines(path.join(dir, AUDIT_FILE));
    expect(entries.slice(0, 10).map((e) => e.what)).toEqual([...Array(10).keys()].map((i) => `status ${i}`));
    const last = entries.at(-1)!;
    expect(entries).toHaveLength(12);
    expect(String(last.who)).toBe(
      `${'A'.repeat(MAX_AUDIT_WHO_CHARS)}…[+${MiB + 16 - MAX_AUDIT_WHO_CHARS} chars]`,
    );
    expect(String(last.what)).toMatch(new RegExp(`^A{${MAX_AUDIT_FIELD_CHARS}}…\\[\\+\\d+ chars\\]$`));
    expect(typeof last.args).toBe('string');
    expect((await stat(path.join(dir, AUDIT_FILE))).size).toBeLessThan(32 * 1024);
  });

  it('keeps `generations` older files, oldest dropped, in order', async () => {
    const dir = await tempDir();
    const audit = new AuditLog(
      { clock: new FakeClock(), log: silentLogger() },
      { stateDir: dir, maxBytes: 400, generations: 3 },
    );
    for (let i = 0; i < 40; i++) {
      void audit.record({
        event: 'command',
        session: 'test#1',
        who: 'tech',
        what: `status ${i}`,
        result: 'ok',
      });
    }
    await audit.flush();
    expect((await readdir(dir)).sort()).toEqual([
      AUDIT_FILE,
      `${AUDIT_FILE}.1`,
      `${AUDIT_FILE}.2`,
      `${AUDIT_FILE}.3`,
    ]);
    const whats: unknown[] = [];
    for (const suffix of ['.3', '.2', '.1', '']) {
      const file = path.join(dir, `${AUDIT_FILE}${suffix}`);
      expect((await stat(file)).size).toBeLessThanOrEqual(400);
      whats.push(...(await lines(file)).map((e) => e.what));
    }
    const numbers = whats.map((w) => Number(String(w).split(' ')[1]));
    expect(numbers.at(-1)).toBe(39);
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    expect(numbers.length).toBeGreaterThan(8);
  });
});
