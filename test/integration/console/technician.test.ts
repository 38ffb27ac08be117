/**
 * The console of the real agent (the built CLI on the simulated board), as a technician meets it on
 * the socket: the banner names the device before login and says what state the box is in; `identity`
 * and `status` name the same device as the identity on disk; `edge-agent console -c` gives a script
 * one JSON line per command and an exit status.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { hashPassword } from '../../../agent/console/password-hash.js';
import { AgentProcess, CLI, REPO_ROOT } from '../../support/agent-process.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const PASSWORD = 'pw for the technician test';
const tempDir = tempDirs('edge-technician-');
let agent: AgentProcess | undefined;
afterEach(async () => {
  agent?.kill('SIGKILL');
  await agent?.exited;
  agent = undefined;
});

async function startAgent(
  lockout?: Record<string, number>,
): Promise<{ dir: string; socketPath: string; file: string }> {
  const dir = await tempDir();
  const dev = parse(await readFile(path.join(REPO_ROOT, 'config/dev.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const socketPath = path.join(dir, 'console.sock');
  const file = path.join(dir, 'agent.yaml');
  await writeFile(
    file,
    stringify({
      ...dev,
      board: path.join(REPO_ROOT, 'boards/sim.yaml'),
      wiring: path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml'),
      stateDir: path.join(dir, 'state'),
      console: {
        socket: { path: socketPath },
        users: [{ name: 'tech', passwordHash: await hashPassword(PASSWORD, { ln: 10, r: 8, p: 1 }) }],
        ...(lockout ? { lockout } : {}),
      },
    }),
  );
  agent = new AgentProcess(['run', '--config', file]);
  await agent.waitFor((r) => r.msg === 'console listening on a Unix socket', 20_000, 'the console socket');
  return { dir, socketPath, file };
}

function consoleCli(socketPath: string, commands: string[], password = PASSWORD) {
  return promisify(execFile)(
    process.execPath,
    [CLI, 'console', '--socket', socketPath, ...commands.flatMap((c) => ['-c', c])],
    { env: { ...process.env, EDGE_AGENT_CONSOLE_PASSWORD: password } },
  );
}

/** The exit code and stderr of a run that may fail. */
const outcome = (run: Promise<{ stderr: string }>) =>
  run.then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );

describe('the agent console, as a technician meets it', () => {
  it('names the device in the banner, in identity and in status: the id of the identity on disk', async () => {
    const { dir, socketPath } = await startAgent();
    const binding = JSON.parse(await readFile(path.join(dir, 'state/identity/identity.json'), 'utf8')) as {
      deviceId: string;
    };

    // A plain client (no hello, like socat) gets the banner before any key.
    const client = connect(socketPath);
    let screen = '';
    client.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
    });
    await until(
      () => screen.includes('login: '),
      'the login prompt',
      10_000,
      () => screen,
    );
    client.destroy();
    const banner = screen.split('\r\n');
    expect(banner[0]).toMatch(new RegExp(`^edge-agent \\S+ on sim · device ${binding.deviceId}$`));
    expect(
      banner.some((l) =>
        /^link (up|down|off) · alarms \d+ active, \d+ unacked · devices \d+, \d+ faulted$/.test(l),
      ),
    ).toBe(true);

    const { stdout, stderr } = await consoleCli(socketPath, ['identity --json', 'status --json']);
    expect(stderr).toBe('');
    const [identity, status] = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { ok: boolean; result: Record<string, unknown> });
    expect(identity).toMatchObject({
      ok: true,
      result: { deviceId: binding.deviceId, keyStore: 'software', alg: 'EdDSA' },
    });
    expect(String(identity!.result.fingerprint)).toMatch(/^SHA256:[A-Za-z0-9_-]{43}$/);
    expect(status).toMatchObject({ ok: true, result: { deviceId: binding.deviceId, board: 'sim' } });
  }, 60_000);

  it('refuses before asking: a missing update image, a missing manifest, a setpoint out of its limits', async () => {
    const { dir, socketPath } = await startAgent();
    const inbox = path.join(dir, 'state/ota/inbox');
    await until(() => existsSync(inbox), 'the inbox', 10_000);
    const session = await plainSession(socketPath);
    await session.send(`ota install ${inbox}/missing.img`);
    expect(session.screen()).toMatch(/error ENO_PAYLOAD: cannot read \S*missing\.img/);
    await writeFile(path.join(inbox, 'rootfs.img'), Buffer.alloc(4096));
    await session.send(`ota install ${inbox}/rootfs.img`);
    expect(session.screen()).toMatch(/error ENO_MANIFEST: cannot read \S*rootfs\.img\.cose/);
    expect(session.screen()).not.toContain('Proceed?');
    // dev.yaml's chamber loop takes setpoints in [10, 65]: its interlock trips at 70.
    await session.send('loop set chamber setpoint 500');
    expect(session.screen()).toContain(
      'error EOUT_OF_RANGE: point loop.chamber.setpoint: 500 is outside its limits [10, 65]',
    );
    expect(session.screen()).not.toContain('Proceed?');
    session.close();
  }, 60_000);

  it('lets the local administrator lift a lockout with `edge-agent passwd --unlock`', async () => {
    const { socketPath, file } = await startAgent({
      maxFailures: 2,
      slowdownMs: 10,
      maxSlowdownMs: 50,
      lockoutMs: 600_000,
    });
    for (let i = 0; i < 2; i++) {
      expect(await outcome(consoleCli(socketPath, ['status'], 'a guess'))).toEqual({
        code: 1,
        stderr: 'login incorrect\n',
      });
    }
    expect(await outcome(consoleCli(socketPath, ['status']))).toEqual({
      code: 1,
      stderr: 'logins as tech are locked; try again later\n',
    });
    const unlock = await promisify(execFile)(process.execPath, [
      CLI,
      'passwd',
      '--unlock',
      '--user',
      'tech',
      '--config',
      file,
    ]);
    expect(unlock.stderr).toMatch(/tech is unlocked at its next login attempt/);
    expect(await outcome(consoleCli(socketPath, ['status']))).toEqual({ code: 0, stderr: '' });
  }, 60_000);
});

/** A socket session without a hello (plain text), logged in; `send` types a line and waits for the prompt. */
async function plainSession(socketPath: string) {
  const client = connect(socketPath);
  let screen = '';
  client.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
  });
  const prompt = async (p: string, from: number) =>
    until(
      () => screen.slice(from).includes(p),
      p,
      10_000,
      () => screen,
    );
  await prompt('login: ', 0);
  client.write(`tech\r${PASSWORD}\r`);
  await prompt('tech@edge> ', 0);
  return {
    screen: () => screen,
    send: async (line: string) => {
      const from = screen.length;
      client.write(`${line}\r`);
      await prompt('tech@edge> ', from + line.length);
    },
    close: () => client.destroy(),
  };
}
