/**
 * What the built agent says when it cannot start, as an operator sees it: exit status 1, one line on
 * stderr naming what failed, the path and the likely cause, and a fatal JSON log line with the same as
 * fields — the stack only at `log.level: debug`. A second agent on a running agent's state directory
 * must also stop before it drives (and then safes) any output. A console socket another process
 * listens on is not fatal: it is reported, left alone, and the agent runs.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, type LogRecord, REPO_ROOT } from '../support/agent-process.js';
import { tempDirs } from '../support/temp-dir.js';

const SIM_BOARD = path.join(REPO_ROOT, 'boards/sim.yaml');
const tempDir = tempDirs('edge-startup-errors-');
const agents: AgentProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function configFile(dir: string, text: string): Promise<string> {
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, `board: ${SIM_BOARD}\n${text}`);
  return file;
}

function agent(config: string, env: NodeJS.ProcessEnv = {}): AgentProcess {
  const a = new AgentProcess(['run', '--config', config], env);
  agents.push(a);
  return a;
}

const fatal = (a: AgentProcess): LogRecord | undefined => a.records.find((r) => r.level === 'fatal');

describe('a start that fails', () => {
  it('on a state directory a running agent holds: names the store, the running pid, exits 1 before driving outputs', async () => {
    const dir = await tempDir();
    const stateDir = path.join(dir, 'state');
    const config = await configFile(dir, `stateDir: ${stateDir}\n`);
    const first = agent(config);
    await first.waitFor((r) => r.msg === 'edge-agent running', 15_000, 'the first agent running');

    const second = agent(config);
    expect((await second.exited).code).toBe(1);
    const store = path.join(stateDir, 'telemetry');
    expect(second.stderr).toBe(
      `edge-agent: cannot open the telemetry store ${store}: it is locked by another process ` +
        `(pid ${first.child.pid}, edge-agent) — is another edge-agent running with stateDir ${stateDir}? ` +
        'Stop it, or give each agent its own stateDir\n',
    );
    expect(fatal(second)).toMatchObject({
      msg: 'start failed',
      step: 'telemetry',
      path: store,
      code: 'ELOCKED',
      reason: `it is locked by another process (pid ${first.child.pid}, edge-agent)`,
      hint: expect.stringContaining(`stateDir ${stateDir}?`),
    });
    expect(fatal(second)).not.toHaveProperty('stack');
    // It stopped before its devices opened: the running agent's outputs were never touched.
    expect(second.records.some((r) => r.msg === 'device open' || r.msg === 'sim output')).toBe(false);
    // And the running one runs on.
    expect(first.child.exitCode).toBe(null);

    // At debug the log line carries the cause chain and the stack; stderr stays one line.
    const debug = agent(config, { EDGE_AGENT_LOG_LEVEL: 'debug' });
    expect((await debug.exited).code).toBe(1);
    expect(debug.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(fatal(debug)).toMatchObject({
      code: 'ELOCKED',
      causes: [expect.objectContaining({ name: 'LockedError', code: 'ELOCKED' })],
      stack: expect.stringMatching(/^LockedError: .*\n\s+at /),
    });
  });

  it('on a state directory that cannot be created: names the file in the way and the setting to change', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'afile'), 'not a directory\n');
    const stateDir = path.join(dir, 'afile', 'state');
    const a = agent(await configFile(dir, `stateDir: ${stateDir}\n`));
    expect((await a.exited).code).toBe(1);
    expect(a.stderr).toBe(
      `edge-agent: cannot use the state directory ${stateDir}: ${dir}/afile is not a directory — ` +
        `move ${dir}/afile out of the way, or change stateDir\n`,
    );
    expect(fatal(a)).toMatchObject({
      step: 'state',
      path: stateDir,
      code: 'ENOTDIR',
      hint: `move ${dir}/afile out of the way, or change stateDir`,
    });
    expect(a.stderr).not.toMatch(/\n\s+at /);
    expect(a.records.some((r) => r.msg === 'device open')).toBe(false);
  });
});

describe('a console socket another process listens on', () => {
  it('is reported with its path and cause, left to that process, and the agent runs', async () => {
    const dir = await tempDir();
    const busy = path.join(dir, 'busy.sock');
    // The agent's probe connects and hangs up at once: that write may meet EPIPE.
    const other = createServer((s) => s.on('error', () => undefined).end('other\n'));
    servers.push(other);
    await new Promise<void>((resolve) => other.listen(busy, resolve));
    const config = await configFile(
      dir,
      `stateDir: ${path.join(dir, 'state')}\nconsole: { socket: { path: ${busy} } }\n`,
    );

    const a = agent(config);
    const line = await a.waitFor((r) => r.msg === 'console socket unavailable', 15_000, 'the console error');
    expect(line).toMatchObject({
      level: 'error',
      step: 'console',
      path: busy,
      code: 'EADDRINUSE',
      reason: 'another process is listening on it',
      hint: 'is another edge-agent running? Stop it, or change console.socket.path',
    });
    await a.waitFor((r) => r.msg === 'edge-agent running', 15_000, 'running');
    a.kill('SIGTERM');
    expect((await a.exited).code).toBe(143);
    expect(a.stderr).toBe('');
    expect(existsSync(busy)).toBe(true);
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      connect(busy)
        .on('data', (d) => {
          text += String(d);
        })
        .on('end', () => resolve(text))
        .on('error', reject);
    });
    expect(reply).toBe('other\n');
  });
});
