/**
 * The login guard against the bypasses of issue 20, point 4: parallel attempts on one name, a flood
 * of invented names pushing a lock out, and reconnecting to skip the slowdown. Real scrypt (cheap
 * ln=10 hashes), fake clock.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Authenticator, MAX_TRACKED_UNKNOWN_NAMES } from '../../../agent/console/authenticator.js';
import { UnlockRequests } from '../../../agent/console/unlock-requests.js';
import { ConsoleHarness, DEFAULT_POLICY, TEST_PASSWORD, testHash } from '../../support/console-harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-login-guard-');

async function authenticator(clock = new FakeClock()) {
  return new Authenticator({ clock }, [{ name: 'tech', passwordHash: await testHash() }], DEFAULT_POLICY);
}

describe('Authenticator', () => {
  it('checks only maxFailures of 40 parallel attempts on one name: the 40th, right, is refused', async () => {
    const auth = await authenticator();
    const guesses = [...Array(39).keys()].map((i) => `guess ${i}`).concat(TEST_PASSWORD);
    const outcomes = await Promise.all(guesses.map((g, i) => auth.login('tech', g, `peer${i}`)));
    const kinds = outcomes.map((o) => (o.ok ? 'ok' : o.reason));
    expect(kinds.filter((k) => k === 'bad-credentials')).toHaveLength(DEFAULT_POLICY.maxFailures);
    expect(kinds.filter((k) => k === 'locked')).toHaveLength(40 - DEFAULT_POLICY.maxFailures);
    expect(kinds.at(-1)).toBe('locked');
  });

  it('keeps a locked user locked through more failed invented names than it tracks', async () => {
    const clock = new FakeClock();
    const auth = await authenticator(clock);
    for (let i = 0; i < DEFAULT_POLICY.maxFailures; i++) await auth.login('tech', 'wrong');
    expect(auth.check('tech').allowed).toBe(false);
    const junk = MAX_TRACKED_UNKNOWN_NAMES + 50;
    for (let i = 0; i < junk; i += 50) {
      await Promise.all([...Array(50).keys()].map((j) => auth.login(`junk${i + j}`, 'x')));
    }
    expect(auth.check('tech')).toEqual({ allowed: false, retryAfterMs: DEFAULT_POLICY.lockoutMs });
    await clock.advance(DEFAULT_POLICY.lockoutMs);
    expect(await auth.login('tech', TEST_PASSWORD)).toEqual({ ok: true, user: 'tech' });
  });

  it('paces a peer’s attempts whatever the session: each waits for the slot after the one before', async () => {
    const clock = new FakeClock();
    const auth = await authenticator(clock);
    const waits = [1, 2, 3, 4].map(() => auth.reserve('socket'));
    expect(waits).toEqual([0, 1000, 3000, 7000].map((waitMs) => ({ allowed: true, waitMs })));
    expect(auth.reserve('serial:/dev/ttyGS0')).toEqual({ allowed: true, waitMs: 0 });
    await clock.advance(7000);
    expect(await auth.login('tech', TEST_PASSWORD, 'socket')).toMatchObject({ ok: true });
    expect(auth.reserve('socket')).toEqual({ allowed: true, waitMs: 0 });
  });

  it('refuses, uncounted, attempts queued beyond maxSlowdownMs, so abandoned ones cannot push turns out', async () => {
    const clock = new FakeClock();
    const auth = await authenticator(clock);
    // Turns at 0, 1 s, 3 s, 7 s; the next would be 15 s away, more than maxSlowdownMs (8 s).
    for (let i = 0; i < 4; i++) expect(auth.reserve('socket').allowed).toBe(true);
    for (let i = 0; i < 1000; i++) {
      expect(auth.reserve('socket')).toEqual({ allowed: false, retryAfterMs: 15_000 - 8000 });
    }
    await clock.advance(7000);
    expect(auth.reserve('socket')).toEqual({ allowed: true, waitMs: 8000 });
  });
});

describe('the session’s login against parallel and reconnecting peers', () => {
  it('makes a peer that reconnects after a failure wait its turn', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir(), hangupOnLogout: true });
    await h.type('tech\r');
    await h.type('wrong\r');
    await h.waitFor('Login incorrect.');
    h.session.hangup();
    const again = h.attachPeer();
    again.session.input(`tech\r${TEST_PASSWORD}\r`);
    await h.settle();
    expect(again.screen.text()).toContain('Too many failed logins on test; wait 1.0 s.');
    expect(again.screen.text()).not.toContain('Logged in');
    await h.clock.advance(1000);
    await until(() => again.screen.text().includes('Logged in as tech'));
  });

  it('lets 40 connections trying at once through one at a time, and refuses those queued too far', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir(), hangupOnLogout: true });
    const peers = [...Array(40).keys()].map(() => h.attachPeer());
    peers.forEach((p, i) => {
      p.session.input(`tech\r${i === 39 ? TEST_PASSWORD : `guess ${i}`}\r`);
    });
    h.session.input('\x04');
    const showing = (text: string) => peers.filter((p) => p.screen.text().includes(text)).length;
    // Turns at 0, 1 s, 3 s and 7 s; the 36 others would wait more than maxSlowdownMs: refused.
    await until(() => showing('Login incorrect.') === 1);
    expect(showing('Too many failed logins on test; wait')).toBe(3);
    expect(showing('Too many login attempts on test; try again in')).toBe(36);
    for (let s = 0; s < 8; s++) await h.clock.advance(1000);
    await until(() => showing('Login incorrect.') === DEFAULT_POLICY.maxFailures);
    await until(() => showing('Logins as tech are locked; try again in') === 1); // at its name, or at its password if a check ran late
    await h.idle();
    expect(showing('Login incorrect.')).toBe(DEFAULT_POLICY.maxFailures);
    expect(showing('Logged in')).toBe(0);
    const entries = await h.auditEntries();
    expect(entries.filter((e) => e.event === 'login-failed')).toHaveLength(DEFAULT_POLICY.maxFailures);
    expect(entries.filter((e) => e.event === 'login')).toHaveLength(0);
    // The refused ones' typed-ahead passwords were dropped, never taken for user names.
    expect(entries.some((e) => String(e.who).startsWith('guess'))).toBe(false);
  });

  it('lets a logged-in user, or the local administrator, lift a lockout', async () => {
    const h = await ConsoleHarness.open({ dir: await tempDir() });
    await h.login();
    // Fake time moves on while real time waits: the pauses after failures sleep on the fake clock.
    const advanceUntil = async (test: () => boolean) => {
      for (let n = 0; n < 1000 && !test(); n++) {
        await h.clock.advance(1000);
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(test()).toBe(true);
    };
    const lockOut = async () => {
      const peer = h.attachPeer({ name: 'serial' });
      for (let i = 0; i < DEFAULT_POLICY.maxFailures; i++) {
        await advanceUntil(() => peer.screen.currentLine === 'login:');
        peer.session.input(`tech\rwrong ${i}\r`);
        await until(() => (peer.screen.text().match(/Login incorrect/g) ?? []).length === i + 1);
      }
      await until(() => peer.screen.text().includes('logins as tech are locked for'));
      await advanceUntil(() => peer.screen.currentLine === 'login:');
      return peer;
    };
    const first = await lockOut();
    await h.type('unlock tech\r');
    expect(h.screen.text()).toContain('Logins as tech are unlocked.');
    first.session.input(`tech\r${TEST_PASSWORD}\r`);
    await advanceUntil(() => first.screen.text().includes('Logged in as tech'));

    const second = await lockOut();
    second.session.input('tech\r');
    await until(() => second.screen.text().includes('Logins as tech are locked; try again in'));
    await new UnlockRequests(path.dirname(h.audit.file)).request('tech');
    await advanceUntil(() => second.screen.currentLine === 'login:');
    second.session.input(`tech\r${TEST_PASSWORD}\r`);
    await advanceUntil(() => second.screen.text().includes('Logged in as tech'));
    const events = (await h.auditEntries()).map((e) => e.event);
    expect(events.filter((e) => e === 'unlocked')).toHaveLength(1);
  });
});

async function until(test: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
