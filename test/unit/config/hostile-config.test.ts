/**
 * Configuration files that must be refused, not run: a document that is not a map (which used to run
 * with every default — no loops, no interlocks, no users, no trust), a "billion laughs" alias bomb
 * (a stack trace and exit 1), a file too large to parse in reasonable time and memory, and lists
 * longer than the limits of agent/core/config-limits.ts. Each is a ConfigError naming the file and,
 * where there is one, the field.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CONFIG_FILE_BYTES } from '../../../agent/config/read-text.js';
import { CONFIG_LIMITS } from '../../../agent/core/config-limits.js';
import { configError, loadIn, TEST_BOARD, writeFiles } from '../../support/config-fixture.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-hostile-config-');

async function refused(agentYaml: string | Uint8Array, extra: Record<string, string> = {}) {
  const dir = await tempDir();
  await writeFiles(dir, { 'boards/test.yaml': TEST_BOARD, ...extra });
  await writeFile(path.join(dir, 'agent.yaml'), agentYaml);
  return { dir, file: path.join(dir, 'agent.yaml'), error: await configError(loadIn(dir)) };
}

/** Nine aliases of nine aliases … : 9^9 strings once expanded. */
const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, i) => {
    const prev = 'abcdefghi'[i];
    return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`;
  }),
  '',
].join('\n');

describe('a configuration that is not a map is refused, naming the file', () => {
  const cases: [string, string | Uint8Array, string][] = [
    ['a scalar', 'hello\n', 'configuration must be a map of fields, found a single value'],
    ['a list', '- board: boards/test.yaml\n- log: { level: info }\n', 'found a list'],
    ['an empty file', '', 'found an empty document (write {} to take every default)'],
    ['only comments', '# board: boards/test.yaml\n', 'found an empty document'],
    ['a YAML null', '~\n', 'found a single value'],
    ['binary bytes', Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 0xff, 0xfe, 0, 1), 'cannot read: not UTF-8 text'],
  ];
  it.each(cases)('%s', async (_name, text, message) => {
    const { file, error } = await refused(text);
    expect(error.message).toContain(`${file}`);
    expect(error.message).toContain(message);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('refuses a wiring file that is a list, at that file', async () => {
    const { dir, error } = await refused('board: boards/test.yaml\nwiring: wiring.yaml\n', {
      'wiring.yaml': '- id: chamber\n  driver: probe\n',
    });
    expect(error.message).toBe(
      `${path.join(dir, 'wiring.yaml')}:1: (document): configuration must be a map of fields, found a list`,
    );
  });

  it('still takes every default from an explicit {}', async () => {
    const dir = await tempDir();
    await writeFiles(dir, { 'boards/test.yaml': TEST_BOARD, 'agent.yaml': '{}\n' });
    const loaded = await loadIn(dir, {}, { boardFile: path.join(dir, 'boards/test.yaml') });
    expect(loaded.config.loops).toEqual([]);
  });
});

describe('resource bombs are a one-line ConfigError', () => {
  it('refuses a "billion laughs" alias bomb without expanding it', async () => {
    const { file, error } = await refused(`board: boards/test.yaml\n${BILLION_LAUGHS}`);
    expect(error.message).toBe(
      `${file}: (document): too many YAML alias expansions (limit 100): refused as a possible "billion laughs" document`,
    );
  });

  it('refuses a file over 1 MiB before parsing it, naming its size and the limit', async () => {
    const big = `board: boards/test.yaml\n# ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`;
    const { file, error } = await refused(big);
    expect(error.message).toBe(
      `${file}: (document): file is too large: ${Buffer.byteLength(big)} bytes, the limit is 1048576 bytes (1024 KiB)`,
    );
  });

  it('names the wiring entry whose file is too large', async () => {
    const { file, error } = await refused('board: boards/test.yaml\nwiring: [big.yaml]\n', {
      'big.yaml': `devices: []\n#${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`,
    });
    expect(error.message).toMatch(
      new RegExp(`^${file}:2: wiring\\.0: wiring file .*big\\.yaml: file is too large: \\d+ bytes`),
    );
  });

  const many = (n: number, item: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => item(i)).join('\n');
  const lists: [string, number, string, string][] = [
    ['devices', CONFIG_LIMITS.devices, 'devices:\n', '  - { id: d%, driver: probe, options: { bus: 1 } }'],
    ['loops', CONFIG_LIMITS.loops, 'loops:\n', '  - { name: l%, input: a.b, output: c.d, setpoint: 1 }'],
    [
      'rules',
      CONFIG_LIMITS.rules,
      'rules:\n',
      '  - { name: r%, when: { point: a.b, is: true }, actions: [{ alarm: { severity: low, message: m } }] }',
    ],
    ['console.users', CONFIG_LIMITS.users, 'console:\n  users:\n', '    - { name: u%, passwordHash: x }'],
    ['telemetry.include', CONFIG_LIMITS.telemetryPatterns, 'telemetry:\n  include:\n', '    - p%'],
  ];
  it.each(lists)('refuses more %s than the limit, naming the field', async (field, limit, head, line) => {
    const text = `board: boards/test.yaml\n${head}${many(limit + 1, (i) => line.replace('%', String(i)))}\n`;
    const { file, error } = await refused(text);
    expect(error.message).toContain(`${field}: expected at most ${limit} items (the limit)`);
    expect(error.message).toContain(file);
  });

  it('refuses more telemetry.points entries than the limit, naming the field', async () => {
    const n = CONFIG_LIMITS.telemetryPoints + 1;
    const text = `board: boards/test.yaml\ntelemetry:\n  points:\n${many(n, (i) => `    p${i}: { st: 1 }`)}\n`;
    const { file, error } = await refused(text);
    expect(error.message).toContain(
      `${file}:3: telemetry.points: expected at most ${CONFIG_LIMITS.telemetryPoints} entries`,
    );
  });
});
