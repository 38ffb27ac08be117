/**
 * The built agent refuses hostile or mangled configuration files the way it refuses a typo: exit 78
 * (EX_CONFIG), `edge-agent: configuration error` and one line naming the file, no stack trace.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/agent-process.js';
import { tempDirs } from '../support/temp-dir.js';

const tempDir = tempDirs('edge-config-refused-');

const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  '',
].join('\n');

describe('edge-agent run on a configuration it must not run', () => {
  const cases: [string, string, string][] = [
    ['an alias bomb', ALIAS_BOMB, ': (document): too many YAML alias expansions (limit 100)'],
    [
      'a list',
      '- log: { level: info }\n',
      ':1: (document): configuration must be a map of fields, found a list',
    ],
    ['an empty file', '', ': (document): configuration must be a map of fields, found an empty document'],
    ['a 2 MiB file', `# ${'x'.repeat(2 * 1024 * 1024)}\n`, ': (document): file is too large: 2097155 bytes'],
  ];
  it.each(cases)('exits 78 with one line for %s', async (_name, text, message) => {
    const dir = await tempDir();
    const config = path.join(dir, 'agent.yaml');
    await writeFile(config, text);
    const run = await runCli(['run', '--config', config, '--board', 'boards/sim.yaml']);
    expect(run.code).toBe(78);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      'edge-agent: configuration error',
      expect.stringContaining(`${config}${message}`),
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
