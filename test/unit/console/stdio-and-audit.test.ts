/**
 * The development console on stdin/stdout (log lines above the prompt, Ctrl-C at the login prompt
 * stops the agent) and the audit log's size limit.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AUDIT_FILE, AuditLog } from '../../../agent/console/audit-log.js';
import { Authenticator } from '../../../agent/console/authenticator.js';
import { ConsoleServer } from '../../../agent/console/console-server.js';
import { StdioConsole } from '../../../agent/console/stdio-console.js';
import { createLogger, silentLogger } from '../../../agent/core/log.js';
import { TEST_PASSWORD, testHash, testRegistry } from '../../support/console-harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';
import { VirtualScreen } from '../../support/virtual-screen.js';

const tempDir = tempDirs('edge-stdio-');

async function until(test: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !test(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(test()).toBe(true);
}

describe('StdioConsole', () => {
  it('prints log lines above the prompt without losing what is being typed, and Ctrl-C at an empty login stops', async () => {
    const clock = new FakeClock();
    const log = silentLogger();
    const audit = new AuditLog({ clock, log }, { stateDir: await tempDir() });
    const auth = new Authenticator({ clock }, [{ name: 'tech', passwordHash: await testHash() }], {
      maxFailures: 3,
      slowdownMs: 10,
      maxSlowdownMs: 10,
      lockoutMs: 10,
    });
    const server = new ConsoleServer(
      { clock, log, commands: testRegistry(clock).registry, auth, audit, banner: 'edge-agent dev' },
      { idleTimeoutMs: 0 },
    );
    const input = new PassThrough();
    const output = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    const screen = new VirtualScreen();
    output.on('data', (d: Buffer) => screen.write(d));
    let interrupted = 0;
    const stdio = new StdioConsole({ input, output, onInterrupt: () => interrupted++ });
    stdio.start(server);
    await until(() => screen.currentLine === 'login:');
    // Ctrl-C with a name half typed clears the line; only at the empty prompt does it stop the agent.
    input.write('te');
    await until(() => screen.currentLine === 'login: te');
    input.write('\x03');
    await until(() => screen.currentLine === 'login:');
    expect(interrupted).toBe(0);
    input.write('\x03');
    await until(() => interrupted === 1);

    input.write(`tech\r${TEST_PASSWORD}\r`);
    await until(() => screen.currentLine === 'tech@edge>');
    input.write('poi');
    await until(() => screen.currentLine === 'tech@edge> poi');
    stdio.logSink.write('10:00:00.000 WARN  alarm alarm=door\n');
    await until(() => screen.currentLine === 'tech@edge> poi');
    expect(screen.lines().at(-2)).toBe('10:00:00.000 WARN  alarm alarm=door');
    // Ctrl-C after login cancels the line instead of stopping the agent.
    input.write('\x03');
    await until(() => screen.currentLine === 'tech@edge>');
    expect(interrupted).toBe(1);
    await server.close('bye');
    stdio.stop();
  });
});

describe('StdioConsole and the logger on one terminal', () => {
  it('prints the same format before the console opens as after it: never JSON between pretty lines', async () => {
    const clock = new FakeClock();
    const output = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    const screen = new VirtualScreen();
    output.on('data', (d: Buffer) => screen.write(d));
    const stdio = new StdioConsole({ input: new PassThrough(), output });
    const log = createLogger({ destination: stdio.logSink, pretty: true, level: 'info' });
    log.child({ mod: 'device' }).info({ device: 'heater' }, 'device open');
    const auth = new Authenticator({ clock }, [{ name: 'tech', passwordHash: await testHash() }], {
      maxFailures: 3,
      slowdownMs: 10,
      maxSlowdownMs: 10,
      lockoutMs: 10,
    });
    const audit = new AuditLog({ clock, log: silentLogger() }, { stateDir: await tempDir() });
    const server = new ConsoleServer(
      { clock, log: silentLogger(), commands: testRegistry(clock).registry, auth, audit, banner: 'dev' },
      { idleTimeoutMs: 0 },
    );
    stdio.start(server);
    await until(() => screen.currentLine === 'login:');
    log.warn({ alarm: 'door' }, 'alarm');
    await until(() => screen.lines().some((l) => l.includes('alarm alarm=door')));
    const logLines = screen.lines().filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
    expect(logLines).toHaveLength(2);
    expect(logLines[0]).toMatch(/ INFO {2}\[device\] device open device=heater$/);
    expect(logLines[1]).toMatch(/ WARN {2}alarm alarm=door$/);
    expect(screen.lines().some((l) => l.includes('{'))).toBe(false);
    await server.close('bye');
    stdio.stop();
  });
});

describe('AuditLog', () => {
  it('keeps one older generation when the file reaches its size limit', async () => {
    const dir = await tempDir();
    const audit = new AuditLog(
      { clock: new FakeClock(), log: silentLogger() },
      { stateDir: dir, maxBytes: 400 },
    );
    for (let i = 0; i < 6; i++) {
      void audit.record({
        event: 'command',
        session: 'test#1',
        who: 'tech',
        what: `status ${i}`,
        result: 'ok',
      });
    }
    await audit.flush();
    expect((await stat(path.join(dir, AUDIT_FILE))).size).toBeLessThanOrEqual(400);
    const older = await readFile(path.join(dir, `${AUDIT_FILE}.1`), 'utf8');
    const newer = await readFile(path.join(dir, AUDIT_FILE), 'utf8');
    const whats = [...older.trim().split('\n'), ...newer.trim().split('\n')].map((l) => JSON.parse(l).what);
    expect(whats.at(-1)).toBe('status 5');
    expect(whats).toEqual([...whats].sort());
  });
});
