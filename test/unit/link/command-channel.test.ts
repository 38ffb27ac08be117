/**
 * The signed command channel over a link test double (the real MQTT path is in
 * test/integration/link/command-channel-mqtt.test.ts): commands run through the registry once, results
 * are signed by the device key, every rejection is reported signed — and replays are refused, also
 * after a restart, with a replay cache that stays bounded.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { signFleetCommand } from '../../../agent/link/fleet-command.js';
import { ReplayCache } from '../../../agent/link/replay-cache.js';
import { channel, cmd, fleet, resultOf } from '../../support/command-channel-harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-channel-');

describe('command channel', () => {
  it('runs a verified command through the registry and publishes a device-signed result', async () => {
    const clock = new FakeClock();
    const calls: string[] = [];
    const { channel: c, link } = await channel({ dir: await tempDir(), clock, calls });
    const handler = link.handlers.get('edge/gw-0042/cmd');
    expect(handler).toBeDefined();
    handler!({
      topic: 'edge/gw-0042/cmd',
      payload: cmd(clock),
      retain: false,
      userProperties: {},
      contentType: undefined,
      responseTopic: undefined,
      correlationData: undefined,
    });
    await c.stop();
    expect(calls).toEqual([expect.stringMatching(/^status by fleet:[0-9a-f]{16}$/)]);
    expect(link.published).toHaveLength(1);
    expect(link.published[0]).toMatchObject({ topic: 'edge/gw-0042/cmd/result', options: { qos: 1 } });
    expect(resultOf(link.published[0]!.payload)).toMatchObject({
      device: 'gw-0042',
      id: 'c-1',
      cmd: 'status',
      status: 'done',
      result: { version: '0.3.1', at: '1970-01-01T00:00:00.000Z' },
    });
  });

  it('reports a command that ran and refused as failed, with its code', async () => {
    const clock = new FakeClock();
    const { channel: c } = await channel({ dir: await tempDir(), clock, calls: [] });
    const outcome = await c.handle(cmd(clock, { cmd: 'loop.setpoint', args: { loop: 'oven', value: 1 } }));
    expect(outcome).toMatchObject({ status: 'failed', code: 'EUNKNOWN_LOOP' });
    expect(resultOf(outcome.resultBytes!)).toMatchObject({
      status: 'failed',
      code: 'EUNKNOWN_LOOP',
      message: 'no loop oven',
    });
    await c.stop();
  });

  it('rejects a command the device does not have (it never ran), without spending its id', async () => {
    const clock = new FakeClock();
    const calls: string[] = [];
    const { channel: c } = await channel({ dir: await tempDir(), clock, calls });
    const bytes = cmd(clock, { cmd: 'frobnicate', args: {} });
    const outcome = await c.handle(bytes);
    expect(outcome).toMatchObject({
      status: 'rejected',
      code: 'unknown-command',
      id: 'c-1',
      cmd: 'frobnicate',
    });
    expect(resultOf(outcome.resultBytes!)).toMatchObject({
      status: 'rejected',
      code: 'unknown-command',
      id: 'c-1',
      cmd: 'frobnicate',
      message: 'unknown command frobnicate: this device has no such command',
    });
    // Not spent: the same command is refused for the same reason, not as a replay.
    expect(await c.handle(bytes)).toMatchObject({ status: 'rejected', code: 'unknown-command' });
    expect(calls).toEqual([]);
    expect(c.stats()).toEqual({ 'unknown-command': 2 });
    await c.stop();
  });

  it('refuses a replayed command id without running it again, and reports the rejection signed', async () => {
    const clock = new FakeClock();
    const calls: string[] = [];
    const { channel: c } = await channel({ dir: await tempDir(), clock, calls });
    const bytes = cmd(clock, { cmd: 'loop.setpoint', args: { loop: 'chamber', value: 20 } });
    expect(await c.handle(bytes)).toMatchObject({ status: 'done' });
    const again = await c.handle(bytes);
    expect(again).toMatchObject({ status: 'rejected', code: 'replayed', id: 'c-1' });
    expect(resultOf(again.resultBytes!)).toMatchObject({ status: 'rejected', code: 'replayed', id: 'c-1' });
    expect(calls).toEqual(['setpoint 20']);
    await c.stop();
  });

  it('still refuses the replay after a restart (the cache is on disk before the command runs)', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    const calls: string[] = [];
    const bytes = cmd(clock, { cmd: 'loop.setpoint', args: { loop: 'chamber', value: 20 } });
    const first = await channel({ dir, clock, calls });
    await first.channel.handle(bytes);
    await first.channel.stop();
    const second = await channel({ dir, clock, calls });
    expect(await second.channel.handle(bytes)).toMatchObject({ status: 'rejected', code: 'replayed' });
    expect(calls).toEqual(['setpoint 20']);
    await second.channel.stop();
  });

  it('judges expiry by the latest signed iat, not only by a wall clock that went back to 1970', async () => {
    const dir = await tempDir();
    const clock = new FakeClock({ wallMs: Date.UTC(2026, 0, 1) });
    const calls: string[] = [];
    const { channel: c } = await channel({ dir, clock, calls });
    await c.handle(cmd(clock, { id: 'a' }));
    const staleIat = Math.floor(clock.nowMs() / 1000) - 600;
    const old = signFleetCommand(
      { id: 'old', device: 'gw-0042', iat: staleIat, exp: staleIat + 60, cmd: 'status', args: {} },
      [fleet],
    );
    await c.stop();
    clock.setWallMs(0); // power cut; the board boots without RTC or NTP
    const restarted = await channel({ dir, clock, calls, isClockTrusted: () => false });
    expect(await restarted.channel.handle(old)).toMatchObject({ status: 'rejected', code: 'expired' });
    await restarted.channel.stop();
  });

  it('refuses commands for another device, by unknown keys, and oversized ones, each with a reason', async () => {
    const clock = new FakeClock();
    const calls: string[] = [];
    const { channel: c } = await channel({ dir: await tempDir(), clock, calls });
    const now = Math.floor(clock.nowMs() / 1000);
    const base = { id: 'x', device: 'gw-0042', iat: now, exp: now + 60, cmd: 'status', args: {} };
    const cases: [Uint8Array, string][] = [
      [signFleetCommand({ ...base, device: 'gw-9' }, [fleet]), 'wrong-device'],
      [signFleetCommand(base, [generateKeyPair()]), 'unknown-key'],
      [new Uint8Array(70 * 1024), 'too-large'],
      [Uint8Array.of(0xd2, 0x84), 'bad-cose'],
    ];
    for (const [bytes, code] of cases) {
      const o = await c.handle(bytes);
      expect(o).toMatchObject({ status: 'rejected', code });
      expect(resultOf(o.resultBytes!)).toMatchObject({
        status: 'rejected',
        code,
        message: expect.any(String),
      });
    }
    expect(calls).toEqual([]);
    expect(c.stats()).toEqual({ 'wrong-device': 1, 'unknown-key': 1, 'too-large': 1, 'bad-cose': 1 });
    await c.stop();
  });

  it('rate-limits rejection reports so garbage cannot make the device sign without bound', async () => {
    const clock = new FakeClock();
    const { channel: c, link } = await channel({
      dir: await tempDir(),
      clock,
      calls: [],
      rejectReportsPerMinute: 3,
    });
    for (let i = 0; i < 10; i++) await c.handle(Uint8Array.of(i));
    expect(link.published).toHaveLength(3);
    await clock.advance(20_000); // one token back
    await c.handle(Uint8Array.of(0xff));
    expect(link.published).toHaveLength(4);
    expect(c.stats()).toEqual({ 'bad-cose': 11 });
    await c.stop();
  });

  it('refuses commands beyond the queue limit as busy', async () => {
    const clock = new FakeClock();
    const { channel: c } = await channel({ dir: await tempDir(), clock, calls: [], maxQueued: 2 });
    const outcomes = await Promise.all([0, 1, 2, 3].map((i) => c.handle(cmd(clock, { id: `q${i}` }))));
    expect(outcomes.map((o) => o.code ?? o.status)).toEqual(['done', 'done', 'busy', 'busy']);
    await c.stop();
  });
});

describe('replay cache', () => {
  it('stays bounded: past capacity the soonest-expiring ids go and the floor rises over them', async () => {
    const file = path.join(await tempDir(), 'replay.log');
    const cache = await ReplayCache.open(file, { capacity: 3 });
    for (let i = 1; i <= 5; i++) await cache.remember(`c${i}`, 1000 + i, 900, 0, 0);
    expect(cache.size).toBe(3);
    expect(cache.floorS).toBe(1002);
    expect(cache.check('c1', 1001)).toBe('below-floor');
    expect(cache.check('c5', 1005)).toBe('replayed');
    expect(cache.check('new', 1003)).toBe('fresh');
    await cache.close();
  });

  it('drops expired ids by trusted time and compacts the file, keeping what matters', async () => {
    const file = path.join(await tempDir(), 'replay.log');
    const cache = await ReplayCache.open(file, { capacity: 2 });
    await cache.remember('a', 100, 50, 0, 0);
    await cache.remember('b', 200, 60, 0, 0);
    await cache.remember('c', 300, 70, 150_000, 0); // now 150 s: a has expired
    await cache.remember('d', 400, 80, 150_000, 0);
    await cache.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(3);
    const reopened = await ReplayCache.open(file, { capacity: 2 });
    expect(reopened.check('a', 100)).toBe('below-floor');
    expect(reopened.check('d', 400)).toBe('replayed');
    expect(reopened.trustedMs).toBe(80_000);
    await reopened.close();
  });

  it('ignores a torn last line (a command that never ran) and distrusts a damaged one', async () => {
    const dir = await tempDir();
    const torn = path.join(dir, 'torn.log');
    await writeFile(torn, '{"v":1,"floor":0,"trusted":0}\n["a",100,50]\n["b",2');
    const t = await ReplayCache.open(torn, { capacity: 10 });
    expect([t.check('a', 100), t.check('b', 200), t.floorS]).toEqual(['replayed', 'fresh', 0]);
    await t.close();
    const damaged = path.join(dir, 'damaged.log');
    await writeFile(damaged, '{"v":1,"floor":0,"trusted":0}\n["a",100,50]\n#garbage#\n["c",300,70]\n');
    const d = await ReplayCache.open(damaged, { capacity: 10 });
    expect(d.floorS).toBe(300); // whatever the damaged line was, nothing up to exp 300 runs again
    expect(d.check('b', 250)).toBe('below-floor');
    await d.close();
  });
});
