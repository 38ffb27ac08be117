/**
 * The agent's last log lines reach stdout, in order, even when the reader (journald, a shell pipe) is
 * slow: `log.flush` waits for writes still in flight before the process exits.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/agent-process.js';

const LINES = 4000;
const child = `
  const { createLogger } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist/agent/core/log.js'))});
  const log = createLogger({ level: 'info', pretty: false });
  for (let i = 0; i < ${LINES}; i++) {
    log.info({ i, pad: 'x'.repeat(200) }, 'line');
    // Let the writes run, so that the pipe is full and a write is waiting on it when exit comes.
    if (i % 100 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  log.flush(() => process.exit(0));
`;

it('writes every line, in order, before exiting, to a reader that falls behind', async () => {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', child], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // A reader that falls behind: nothing is read for half a second.
  proc.stdout.pause();
  await new Promise((r) => setTimeout(r, 500));
  let text = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    text += d;
  });
  proc.stdout.resume();
  const code = await new Promise<number | null>((resolve) => proc.on('close', (c) => resolve(c)));
  expect(code).toBe(0);
  const seen = text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { i: number }).i); // a torn line throws here
  expect(seen.length).toBe(LINES);
  expect(seen).toEqual([...Array(LINES).keys()]);
});
