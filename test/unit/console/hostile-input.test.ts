/**
 * The console session against a hostile peer, on an in-memory link with a fake clock: a megabyte
 * without a newline before login, an over-long command, impossible user names, a connection that
 * never logs in (issue 20, points 1, 2 and 11). The same limits over a real socket and pty are in
 * test/integration/console/hostile-peers.test.ts.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRE_LOGIN_FLOOD_CHARS } from '../../../agent/console/session.js';
import { ConsoleHarness } from '../../support/console-harness.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-console-hostile-');
const MiB = 1024 * 1024;

describe('the console before login, against a flood', () => {
  it('hangs up a peer that sends a megabyte with no newline, having kept only a name’s worth', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir(), hangupOnLogout: true });
    await h.type('x'.repeat(MiB));
    expect(h.hungUp).toBe(true);
    expect(h.screen.text()).toContain('*** input flood: disconnected ***');
    // What was echoed is the 32 characters a name may have, and one bell for the rest.
    expect(h.screen.raw).toContain(`login: ${'x'.repeat(32)}\x07`);
    expect(h.screen.raw.length).toBeLessThan(1024);
    expect(await h.auditEntries()).toEqual([]);
  });

  it('hangs up the serial-like peer too when it keeps typing past a full line key by key', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir() });
    for (let i = 0; i < 32 + PRE_LOGIN_FLOOD_CHARS; i++) {
      h.session.input('y');
      await new Promise((r) => setImmediate(r));
    }
    expect(h.hungUp).toBe(false);
    await h.type('y');
    expect(h.hungUp).toBe(true);
  });

  it('drops an over-long command with a bell and runs no part of it', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir() });
    await h.login();
    await h.type(`loop set chamber setpoint 5${'0'.repeat(5000)} --yes\r`);
    expect(h.screen.text()).toContain('Line too long (over 4096 characters): dropped.');
    expect(h.screen.currentLine).toBe('tech@edge>');
    expect(h.test.setpoints).toEqual([]);
    expect(h.hungUp).toBe(false);
    await h.type('loop set chamber setpoint 50 --yes\r');
    expect(h.test.setpoints).toEqual([{ loop: 'chamber', value: 50, who: 'tech' }]);
  });
});

describe('user names no user can have', () => {
  it('refuses them before the password prompt and audits a bounded record', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir() });
    for (const name of ['Root', 'tech;reboot', 'ünïcode', 'a b']) {
      await h.type(`${name}\r`);
      expect(h.screen.text()).not.toContain('password:');
      await h.clock.advance(60_000);
      await h.settle();
    }
    // One character too many: the line is dropped as too long, never taken as a name.
    await h.type(`${'a'.repeat(33)}\r`);
    expect(h.screen.text()).toContain('Line too long (over 32 characters): dropped.');
    expect(h.screen.text().match(/Login incorrect\./g)).toHaveLength(4);
    const entries = await h.auditEntries();
    expect(entries.map((e) => [e.event, e.who, e.code])).toEqual([
      ['login-failed', 'Root', 'invalid-name'],
      ['login-failed', 'tech;reboot', 'invalid-name'],
      ['login-failed', 'ünïcode', 'invalid-name'],
      ['login-failed', 'a b', 'invalid-name'],
    ]);
  });

  it('lets two megabyte "user names" rotate no history away (the trial’s attack)', async () => {
    const dir = await tempDir();
    const first = await ConsoleHarness.open({ dir });
    await first.login();
    await first.type('status\r');
    await first.type('logout\r');
    const history = await first.auditEntries();
    expect(history.map((e) => e.event)).toEqual(['login', 'command', 'command', 'logout']);
    for (let i = 0; i < 2; i++) {
      const peer = first.attachPeer();
      peer.session.input(`${'n'.repeat(MiB)}\r`);
      await until(() => peer.hungUp(), 'the flooding peer hung up on');
    }
    expect(await first.auditEntries()).toEqual(history);
    expect(await readdir(dir)).toEqual(['console-audit.jsonl']);
    expect(path.basename(first.audit.file)).toBe('console-audit.jsonl');
  });
});

describe('a connection that never logs in', () => {
  it('is closed after loginTimeoutMs, whatever it typed meanwhile', async () => {
    const h = await ConsoleHarness.open({
      dir: await tempDir(),
      hangupOnLogout: true,
      loginTimeoutMs: 60_000,
    });
    await h.type('help\r');
    await h.clock.advance(30_000);
    await h.type('tec');
    await h.clock.advance(29_999);
    expect(h.hungUp).toBe(false);
    await h.clock.advance(1);
    await h.settle();
    expect(h.hungUp).toBe(true);
    expect(h.screen.text()).toContain('*** not logged in within 1m00s: disconnected ***');
  });

  it('is not closed once logged in', async () => {
    const h = await ConsoleHarness.open({
      dir: await tempDir(),
      hangupOnLogout: true,
      loginTimeoutMs: 60_000,
    });
    await h.login();
    await h.clock.advance(120_000);
    await h.settle();
    expect(h.hungUp).toBe(false);
    expect(h.screen.currentLine).toBe('tech@edge>');
  });
});
