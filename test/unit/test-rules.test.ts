/**
 * The test suite's own rules, checked over its source: a test may skip only when it is a
 * real-hardware contract run (test/contract/, gated on `HAL_TEST_*`). Anything else that needs a
 * missing tool fails and names the package (test/support/system-tools.ts) — a silent skip would let a
 * green run hide untested code on a fresh machine.
 */
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MissingToolError, requireTools, systemPackages } from '../support/system-tools.js';
import { tempDirs } from '../support/temp-dir.js';

const TEST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = /\b(?:describe|it|test|suite)\s*\.\s*(?:skip|skipIf|runIf|todo)\b|\bctx\.skip\(|\.skip\(\s*\)/;

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return testSources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('the test suite', () => {
  it('skips only the real-hardware contract runs gated on HAL_TEST_*', () => {
    const offenders = testSources(TEST_DIR).flatMap((file) => {
      const rel = path.relative(TEST_DIR, file);
      if (rel === path.join('unit', 'test-rules.test.ts')) return [];
      const text = readFileSync(file, 'utf8');
      const allowed = rel.startsWith(`contract${path.sep}`) && text.includes('HAL_TEST_');
      if (allowed) return [];
      return text
        .split('\n')
        .flatMap((line, i) => (SKIP.test(line) ? [`test/${rel}:${i + 1}: ${line.trim()}`] : []));
    });
    expect(offenders, 'use describeWithTools (test/support/system-tools.ts) instead of a skip').toEqual([]);
  });
});

describe('a missing system tool', () => {
  const tempDir = tempDirs('edge-tools-');

  it('fails with one line naming the tool and its Debian package', async () => {
    // A PATH with socat and nothing else: mosquitto is "not installed".
    const dir = await tempDir();
    symlinkSync('/bin/true', path.join(dir, 'socat'));
    expect(() => requireTools(['socat'], [dir])).not.toThrow();
    expect(() => requireTools(['socat', 'mosquitto'], [dir])).toThrow(
      new MissingToolError('mosquitto', ['mosquitto', 'mosquitto-clients']),
    );
    expect(() => requireTools(['socat', 'mosquitto'], [dir])).toThrow(
      'mosquitto not found: apt-get install mosquitto mosquitto-clients, or run scripts/setup.sh',
    );
  });

  it('is a mistake in the test when the tool is not in scripts/system-packages.txt', () => {
    expect(() => requireTools(['no-such-tool'], [])).toThrow(TypeError);
  });

  it('comes from the one list scripts/setup.sh installs from', () => {
    const setup = readFileSync(path.join(TEST_DIR, '..', 'scripts/setup.sh'), 'utf8');
    expect(setup).toContain('scripts/system-packages.txt');
    expect(systemPackages().get('fw_printenv')).toEqual(['libubootenv-tool']);
  });
});
