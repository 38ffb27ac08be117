/**
 * `npm start`'s process tree — the device emulator running the built agent — writing to something
 * that is not a terminal: the log format is decided once, so every line on stdout is JSON with
 * `log.format: auto` (the emulator's own lines included), and none is with `log.format: pretty`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/agent-process.js';
import { duplicateKeys } from '../../support/duplicate-keys.js';
import { tempDirs } from '../../support/temp-dir.js';

const EMULATOR = path.join(REPO_ROOT, 'dist/scripts/ota-emulator/main.js');
const newDir = tempDirs('edge-emu-log-');

/** Runs the emulator on a small configuration until the agent is running, then SIGTERM; its stdout. */
async function runEmulator(
  format: 'auto' | 'pretty',
): Promise<{ lines: string[]; stderr: string; code: number | null }> {
  if (!existsSync(EMULATOR)) throw new Error(`${EMULATOR} is missing: run \`npm run build\` first`);
  const dir = await newDir();
  const config = path.join(dir, 'agent.yaml');
  await writeFile(
    config,
    JSON.stringify({
      version: 1,
      board: path.join(REPO_ROOT, 'boards/sim.yaml'),
      stateDir: 'state',
      log: { level: 'info', format },
      console: { stdio: true },
      ota: {
        trust: { keys: ['fleet.pub.pem'] },
        bootInfo: { cmdline: 'emu/cmdline', bootId: 'emu/boot_id' },
        components: {
          agent: {
            slots: { kind: 'dir', A: 'ota/agent-a', B: 'ota/agent-b' },
            boot: { backend: 'file', file: 'ota/agent-boot.env', cmdlineParam: 'edge.agent.slot' },
          },
        },
      },
    }),
  );
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('EDGE_AGENT_')) delete env[key];
  const child = spawn(process.execPath, [EMULATOR, '--config', config], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start; stdout: ${stdout}`)), 15_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('edge-agent running')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.kill('SIGTERM');
  const code = await exited;
  return { lines: stdout.split('\n').filter((l) => l !== ''), stderr, code };
}

describe('the device emulator and the agent on stdout that is not a terminal', () => {
  it('with log.format auto writes only JSON lines, each key once, its own lines among them', async () => {
    const { lines, stderr, code } = await runEmulator('auto');
    expect(code).toBe(143);
    expect(stderr).toBe('');
    const records = lines.map((line) => {
      expect(duplicateKeys(line), line).toEqual([]);
      return JSON.parse(line) as { level: string; msg: string; mod?: string };
    });
    expect(records.filter((r) => r.mod === 'emulator').map((r) => r.msg)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^boot 1: edge\.agent\.slot=A$/)]),
    );
    expect(records.some((r) => r.msg === 'edge-agent running')).toBe(true);
    expect(records.some((r) => r.msg === 'stopped')).toBe(true);
  });

  it('with log.format pretty writes only lines for people, the emulator in the same style', async () => {
    const { lines, stderr, code } = await runEmulator('pretty');
    expect(code).toBe(143);
    expect(stderr).toBe('');
    for (const line of lines) {
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /);
      expect(line).not.toContain('\x1b[');
    }
    expect(lines.some((l) => / INFO {2}\[emulator\] boot 1: edge\.agent\.slot=A$/.test(l))).toBe(true);
    expect(lines.some((l) => / INFO {2}edge-agent running /.test(l))).toBe(true);
  });
});
