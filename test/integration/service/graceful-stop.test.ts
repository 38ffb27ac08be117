/**
 * The agent as systemd runs it: the built CLI on the simulated board with a fake NOTIFY_SOCKET and a
 * watchdog, and a technician logged in on the console socket. It must report READY=1 once running,
 * feed the watchdog at half WATCHDOG_USEC, and on SIGTERM say STOPPING=1, put the outputs in their
 * safe state, and only then close the console session with a message, and exit 143.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { AUDIT_FILE } from '../../../agent/console/audit-log.js';
import { hashPassword } from '../../../agent/console/password-hash.js';
import { AgentProcess, REPO_ROOT } from '../../support/agent-process.js';
import { NotifyListener } from '../../support/notify-listener.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-stop-');
let agent: AgentProcess | undefined;
let listener: NotifyListener | undefined;
let socket: Socket | undefined;
afterEach(async () => {
  socket?.destroy();
  agent?.kill('SIGKILL');
  await listener?.close();
  agent = undefined;
  listener = undefined;
});

/** config/dev.yaml (its loop and rules) with the console on a socket in `dir` and no stdio. */
async function writeConfig(dir: string): Promise<{ file: string; socketPath: string }> {
  const dev = parse(await readFile(path.join(REPO_ROOT, 'config/dev.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const socketPath = path.join(dir, 'console.sock');
  const config = {
    ...dev,
    board: path.join(REPO_ROOT, 'boards/sim.yaml'),
    wiring: path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml'),
    stateDir: path.join(dir, 'state'),
    log: { level: 'debug' },
    console: {
      socket: { path: socketPath },
      users: [{ name: 'tech', passwordHash: await hashPassword('pw for the test', { ln: 10, r: 8, p: 1 }) }],
    },
  };
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, stringify(config));
  return { file, socketPath };
}

function until(read: () => string, test: RegExp, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (test.test(read())) resolve();
      else if (Date.now() > deadline) reject(new Error(`never saw ${test}; got:\n${read()}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describeWithTools(['python3', 'systemd-notify'], 'edge-agent under systemd', () => {
  it('notifies READY and WATCHDOG, and on SIGTERM stops in order: outputs safe, then console closed, exit 143', async () => {
    const dir = await tempDir();
    const { file, socketPath } = await writeConfig(dir);
    listener = await NotifyListener.open(dir);
    agent = new AgentProcess(['run', '--config', file], {
      NOTIFY_SOCKET: listener.socketPath,
      WATCHDOG_USEC: '600000',
    });
    const ready = await listener.waitFor((n) => n.lines.includes('READY=1'), 15_000, 'READY=1');
    expect(ready.lines).toContainEqual(expect.stringMatching(/^STATUS=running: \d+ devices, 1 loops$/));
    expect(agent.records.some((r) => r.msg === 'edge-agent running')).toBe(true);

    await listener.waitFor(
      () => listener!.received.filter((n) => n.lines.includes('WATCHDOG=1')).length >= 4,
      5000,
    );
    const pings = listener.received.filter((n) => n.lines.includes('WATCHDOG=1'));
    const gaps = pings.slice(1).map((p, i) => p.t - pings[i]!.t);
    for (const gap of gaps) expect(gap).toBeGreaterThan(150);
    for (const gap of gaps) expect(gap).toBeLessThan(600);

    // A technician is logged in on the console socket.
    let screen = '';
    socket = connect(socketPath);
    socket.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
    });
    await until(() => screen, /login: $/);
    socket.write('tech\npw for the test\n');
    await until(() => screen, /tech@edge> $/);
    socket.write('status\n');
    await until(() => screen, /uptime[\s\S]*tech@edge> $/);

    agent.kill('SIGTERM');
    const { code } = await agent.exited;
    expect(code).toBe(143);
    await until(() => screen, /\*\*\* edge-agent is stopping: outputs are safe; console closed \*\*\*/);

    const assignments = listener.assignments;
    const stoppingAt = assignments.indexOf('STOPPING=1');
    expect(stoppingAt).toBeGreaterThan(assignments.indexOf('READY=1'));
    expect(assignments).toContain('STATUS=stopping (SIGTERM)');

    const records = agent.records;
    const at = (test: (r: (typeof records)[number]) => boolean) => records.findIndex(test);
    const stopping = at((r) => r.msg === 'stopping');
    const lastSafeOutput = records.findLastIndex((r) => r.msg === 'sim output' && r.device === 'heater');
    const consoleClosed = at(
      (r) => r.msg === 'console session closed' && String(r.session).startsWith('socket'),
    );
    expect(stopping).toBeGreaterThan(0);
    expect(records[lastSafeOutput]?.value).toBe(0);
    expect(lastSafeOutput).toBeGreaterThan(stopping);
    expect(consoleClosed).toBeGreaterThan(lastSafeOutput);
    expect(agent.stderr).toBe('');

    const audit = (await readFile(path.join(dir, 'state', AUDIT_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.map((e) => [e.event, e.result])).toEqual([
      ['login', 'ok'],
      ['command', 'ok'],
      ['logout', 'closed'],
    ]);
  });
});
