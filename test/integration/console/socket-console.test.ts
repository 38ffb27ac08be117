/**
 * The console on a Unix socket: `edge-agent console` as a script (commands piped in or given with
 * `-c`: results on stdout with LF, messages on stderr, an exit status), a client that announces a
 * terminal (ANSI), and the audit trail those sessions leave.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_FILE } from '../../../agent/console/audit-log.js';
import { runConsoleClient } from '../../../agent/console/socket-client.js';
import { encodeHello } from '../../../agent/console/socket-hello.js';
import { CLI } from '../../support/agent-process.js';
import { TEST_PASSWORD, testRegistry } from '../../support/console-harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { startSocketConsole } from '../../support/real-time-console.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-socket-console-');
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function startConsole() {
  const dir = await tempDir();
  const registry = testRegistry(new FakeClock());
  const rig = await startSocketConsole(dir, {
    commands: registry.registry,
    banner: 'edge-agent 9.9.9 on socket',
  });
  stops.push(rig.stop);
  return { dir, socket: rig.socket, registry, audit: rig.audit };
}

function collector(): Writable & { text: string } {
  const sink = new Writable({
    write(chunk, _enc, done) {
      sink.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  sink.text = '';
  return sink;
}

const SCRIPT = [
  'tech',
  TEST_PASSWORD,
  'status --json',
  'loop set chamber setpoint 48 --yes --json',
  'point set chamber.temp 5 --yes --json',
  'logout',
  '',
].join('\n');

describe('the console on a Unix socket', () => {
  it('runs piped commands as a script: results on stdout with LF, exit 2 when one failed', async () => {
    const { socket, registry, audit, dir } = await startConsole();
    const stdin = new PassThrough();
    const stdout = collector();
    const stderr = collector();
    const exit = runConsoleClient({ socketPath: socket.path, stdin, stdout, stderr });
    stdin.end(SCRIPT);
    expect(await exit).toBe(2);

    expect(stdout.text).not.toContain('\r');
    expect(stdout.text).not.toContain('\x1b[');
    const json = stdout.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json).toHaveLength(3);
    expect(json[0]).toMatchObject({ ok: true, command: 'status', result: { version: '9.9.9' } });
    expect(json[1]).toMatchObject({ ok: true, command: 'loop.setpoint', result: { setpoint: 48 } });
    expect(json[2]).toMatchObject({ ok: false, command: 'point.set', code: 'EREADONLY' });
    expect(stderr.text).toBe('');
    expect(registry.setpoints).toEqual([{ loop: 'chamber', value: 48, who: 'tech' }]);

    await audit.flush();
    const entries = (await readFile(path.join(dir, AUDIT_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      entries.map((e) => [e.session, e.event, e.who, e.command ?? null, e.result, e.code ?? null]),
    ).toEqual([
      ['socket#1', 'login', 'tech', null, 'ok', null],
      ['socket#1', 'command', 'tech', 'status', 'ok', null],
      ['socket#1', 'command', 'tech', 'loop.setpoint', 'ok', null],
      ['socket#1', 'command', 'tech', 'point.set', 'error', 'EREADONLY'],
      ['socket#1', 'logout', 'tech', null, 'ok', null],
    ]);
    expect(entries[2]).toMatchObject({
      what: 'loop set chamber setpoint 48',
      args: { loop: 'chamber', value: 48 },
    });
    for (const e of entries) expect(Number.isNaN(Date.parse(String(e.ts)))).toBe(false);
    expect(JSON.stringify(entries)).not.toContain(TEST_PASSWORD);
  });

  it('in a script, refuses an actuating command without --yes and a wrong password, with their exit codes', async () => {
    const { socket, registry } = await startConsole();
    const run = async (input: string) => {
      const stdin = new PassThrough();
      const stdout = collector();
      const stderr = collector();
      const exit = runConsoleClient({ socketPath: socket.path, stdin, stdout, stderr });
      stdin.end(input);
      return { code: await exit, stdout: stdout.text, stderr: stderr.text };
    };
    const unconfirmed = await run(`tech\n${TEST_PASSWORD}\nloop set chamber setpoint 40\nstatus --json\n`);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('error ECONFIRM: loop.setpoint changes the process: add --yes');
    expect(JSON.parse(unconfirmed.stdout)).toMatchObject({ ok: true, command: 'status' });
    expect(registry.setpoints).toEqual([]);

    const wrong = await run('tech\nnot the password\nstatus --json\n');
    expect(wrong).toEqual({ code: 1, stdout: '', stderr: 'login incorrect\n' });
  });

  it('sends ANSI only to a client that announces a terminal', async () => {
    const { socket } = await startConsole();
    const client = connect(socket.path);
    let screen = '';
    client.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
    });
    client.write(encodeHello({ tty: true, columns: 120 }));
    client.write(`tech\r${TEST_PASSWORD}\r`);
    const deadline = Date.now() + 3000;
    while (!screen.includes('tech@edge>') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(screen).toContain('\x1b[1mtech@edge> \x1b[0m');
    client.destroy();
  });

  it('pages long output on a 24-line terminal: -- More --, Space for the next page; `terminal length 0` stops it', async () => {
    const { socket } = await startConsole();
    const client = connect(socket.path);
    let screen = '';
    client.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
    });
    const waitFor = async (text: string, from: number) => {
      const deadline = Date.now() + 3000;
      while (!screen.slice(from).includes(text) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      expect(screen.slice(from)).toContain(text);
    };
    client.write(encodeHello({ tty: true, columns: 80, rows: 24 }));
    client.write(`tech\r${TEST_PASSWORD}\r`);
    await waitFor('tech@edge>', 0);

    let from = screen.length;
    client.write('help\r');
    await waitFor('-- More -- (Space', from);
    const firstPage = screen.slice(from, screen.indexOf('-- More -- (Space', from)).split('\r\n');
    // The echoed command line, then 23 lines of output and `-- More --` on the 24th row.
    expect(firstPage.slice(1, -1)).toHaveLength(23);
    expect(screen.slice(from)).not.toContain('logout');
    client.write(' ');
    await waitFor('tech@edge>', from + firstPage.join('').length);
    expect(screen.slice(from)).toContain('end the session');

    from = screen.length;
    client.write('terminal length 0\r');
    await waitFor('Output is not paged.', from);
    from = screen.length;
    client.write('help\r');
    await waitFor('end the session', from);
    expect(screen.slice(from)).not.toContain('-- More -- (Space');
    client.destroy();
  });

  it('is what `edge-agent console -c` talks to: only JSON on stdout, the exit status says how it went', async () => {
    const { socket } = await startConsole();
    const cli = (args: string[], password = TEST_PASSWORD) =>
      promisify(execFile)(process.execPath, [CLI, 'console', '--socket', socket.path, ...args], {
        env: { ...process.env, EDGE_AGENT_CONSOLE_PASSWORD: password },
      }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({
          code: e.code,
          stdout: e.stdout,
          stderr: e.stderr,
        }),
      );
    const ok = await cli(['-c', 'status --json']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.endsWith('}\n')).toBe(true);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, command: 'status' });
    expect(ok.stderr).toBe('');

    expect(await cli(['-c', 'status --json'], 'wrong')).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'login incorrect\n',
    });
    expect(await cli(['-c', 'stauts'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining('unknown command: stauts'),
    });

    const missing = await promisify(execFile)(process.execPath, [
      CLI,
      'console',
      '--socket',
      '/nonexistent.sock',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('cannot connect to /nonexistent.sock'),
    });
  });
});
