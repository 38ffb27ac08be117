/**
 * The console socket file at start: one a live process still listens on is left to it (start rejects
 * with EADDRINUSE, stop leaves the file), while a stale one — its owner killed with SIGKILL, so nobody
 * unlinked it — is replaced.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/console/audit-log.js';
import { Authenticator } from '../../../agent/console/authenticator.js';
import { ConsoleServer } from '../../../agent/console/console-server.js';
import { SocketConsole } from '../../../agent/console/socket-console.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { testRegistry } from '../../support/console-harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-socket-in-use-');
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function socketConsole(dir: string, file: string): SocketConsole {
  const clock = new SystemClock();
  const log = silentLogger();
  const server = new ConsoleServer(
    {
      clock,
      log,
      commands: testRegistry(new FakeClock()).registry,
      auth: new Authenticator({ clock }, [], {
        maxFailures: 5,
        slowdownMs: 10,
        maxSlowdownMs: 100,
        lockoutMs: 1000,
      }),
      audit: new AuditLog({ clock, log }, { stateDir: dir }),
      banner: 'edge-agent 9.9.9',
    },
    { idleTimeoutMs: 60_000 },
  );
  const socket = new SocketConsole({ server, log }, { path: file });
  stops.push(async () => {
    await server.close('test over');
    await socket.stop();
  });
  return socket;
}

const accepts = (file: string) =>
  new Promise<boolean>((resolve) => {
    const c = connect(file);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

describe('the console socket file at start', () => {
  it('is left to a live process that listens on it: EADDRINUSE, and stop does not remove it', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'console.sock');
    const other: Server = createServer((s) => s.end());
    await new Promise<void>((resolve) => other.listen(file, resolve));
    stops.push(() => new Promise((resolve) => other.close(resolve)));

    const socket = socketConsole(dir, file);
    await expect(socket.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await socket.stop();
    expect(existsSync(file)).toBe(true);
    expect(await accepts(file)).toBe(true);
  });

  it('replaces a stale socket file whose owner was killed', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'console.sock');
    const owner = spawn(
      process.execPath,
      ['-e', `require('node:net').createServer().listen(${JSON.stringify(file)}, () => console.log('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) =>
      createInterface({ input: owner.stdout! }).once('line', () => resolve()),
    );
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('exit', resolve));
    expect(existsSync(file)).toBe(true);
    expect(await accepts(file)).toBe(false);

    const socket = socketConsole(dir, file);
    await socket.start();
    expect(await accepts(file)).toBe(true);
  });
});
