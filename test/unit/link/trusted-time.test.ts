/**
 * A command signed with an `iat` in the future must not disable the command channel for good (issue
 * 20 pt 6). Trusted time used to become max(wall clock, latest iat), so one such command made every
 * later command `expired`, across restarts (rebuilt from replay.log) and NTP. Now: with a trusted
 * wall clock it is refused `not-yet-valid` and touches nothing; one accepted while the clock was not
 * trusted is undone as soon as it is (and durably); without a trusted clock, the fleet undoes it with
 * a signed `fleet.reset-time`. Time is the injected FakeClock.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { replayFileIn } from '../../../agent/link/command-channel.js';
import { type FleetCommand, signFleetCommand } from '../../../agent/link/fleet-command.js';
import { ReplayCache } from '../../../agent/link/replay-cache.js';
import { channel, cmd, fleet, resultOf } from '../../support/command-channel-harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs('edge-agent-trusted-time-');
const YEAR_S = 365 * 86_400;

/** A fleet-signed command issued a year from now (a signer whose clock is wrong). */
function fromTheFuture(clock: FakeClock, id = 'future'): Uint8Array {
  const iat = Math.floor(clock.nowMs() / 1000) + YEAR_S;
  return signFleetCommand({ id, device: 'gw-0042', iat, exp: iat + 60, cmd: 'status', args: {} }, [fleet]);
}

function resetTime(clock: FakeClock, id: string, trustedS: number, extra: Partial<FleetCommand> = {}) {
  return cmd(clock, { id, cmd: 'fleet.reset-time', args: { trustedS }, ...extra });
}

async function trustedInFile(dir: string): Promise<number> {
  const header = JSON.parse((await readFile(replayFileIn(dir), 'utf8')).split('\n')[0]!) as {
    trusted: number;
  };
  return header.trusted;
}

describe('a command signed in the future', () => {
  it('is refused not-yet-valid while the wall clock is trusted, and later commands still run', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    const calls: string[] = [];
    const { channel: c } = await channel({ dir, clock, calls });
    const refused = await c.handle(fromTheFuture(clock));
    expect(refused).toMatchObject({ status: 'rejected', code: 'not-yet-valid', id: 'future' });
    expect(await c.handle(cmd(clock, { id: 'next' }))).toMatchObject({ status: 'done' });
    await c.stop();
    const restarted = await channel({ dir, clock, calls });
    expect(await restarted.channel.handle(cmd(clock, { id: 'after-restart' }))).toMatchObject({
      status: 'done',
    });
    expect(await trustedInFile(dir)).toBeLessThanOrEqual(clock.nowMs() + 60_000);
    await restarted.channel.stop();
  });

  it('accepted while the clock was untrusted, stops holding the channel once NTP syncs — also after a restart', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    let ntp = false;
    const calls: string[] = [];
    const { channel: c } = await channel({ dir, clock, calls, isClockTrusted: () => ntp });
    expect(await c.handle(fromTheFuture(clock))).toMatchObject({ status: 'done' });
    // The attack: every ordinary command is now "expired".
    expect(await c.handle(cmd(clock, { id: 'a' }))).toMatchObject({ status: 'rejected', code: 'expired' });
    ntp = true;
    await clock.advance(5000);
    expect(await c.handle(cmd(clock, { id: 'b' }))).toMatchObject({ status: 'done' });
    expect(await trustedInFile(dir)).toBeLessThanOrEqual(clock.nowMs() + 60_000);
    await c.stop();

    ntp = false; // a reboot before NTP syncs again: replay.log no longer holds the future
    const restarted = await channel({ dir, clock, calls, isClockTrusted: () => ntp });
    expect(await restarted.channel.handle(cmd(clock, { id: 'c' }))).toMatchObject({ status: 'done' });
    // …and the command from the future, replayed by whoever captured it, stays spent.
    expect(await restarted.channel.handle(fromTheFuture(clock))).toMatchObject({ code: 'replayed' });
    await restarted.channel.stop();
  });
});

describe('fleet.reset-time, for a device with no trusted clock', () => {
  it('sets trusted time back by compare-and-set, after which commands run again, also after a restart', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    const calls: string[] = [];
    const untrusted = { isClockTrusted: () => false };
    const { channel: c } = await channel({ dir, clock, calls, ...untrusted });
    await c.handle(fromTheFuture(clock));
    expect(await c.handle(cmd(clock, { id: 'a' }))).toMatchObject({ code: 'expired' });

    const ask = await c.handle(resetTime(clock, 'reset-0', 0));
    const heldS = Math.floor(clock.nowMs() / 1000) + YEAR_S;
    expect(ask).toMatchObject({ status: 'rejected', code: 'replayed' });
    expect(resultOf(ask.resultBytes!).message).toBe(
      `fleet.reset-time is for trusted time 0; this device holds ${heldS}`,
    );
    const forged = signFleetCommand(
      {
        id: 'reset-forged',
        device: 'gw-0042',
        iat: 1,
        exp: 61,
        cmd: 'fleet.reset-time',
        args: { trustedS: heldS },
      },
      [generateKeyPair()],
    );
    expect(await c.handle(forged)).toMatchObject({ code: 'unknown-key' });

    const reset = await c.handle(resetTime(clock, 'reset-1', heldS));
    const nowS = Math.floor(clock.nowMs() / 1000);
    expect(reset).toMatchObject({ status: 'done', cmd: 'fleet.reset-time' });
    expect(resultOf(reset.resultBytes!).result).toMatchObject({ previousTrustedS: heldS, trustedS: nowS });
    expect(await c.handle(cmd(clock, { id: 'b' }))).toMatchObject({ status: 'done' });
    // Captured and replayed, the reset finds another trusted time (and its id spent): refused.
    expect(await c.handle(resetTime(clock, 'reset-1', heldS))).toMatchObject({ code: 'replayed' });
    expect(await c.handle(resetTime(clock, 'reset-2', heldS))).toMatchObject({ code: 'replayed' });
    // The command from the future stays spent.
    expect(await c.handle(fromTheFuture(clock))).toMatchObject({ code: 'replayed' });
    await c.stop();

    const restarted = await channel({ dir, clock, calls, ...untrusted });
    expect(await restarted.channel.handle(cmd(clock, { id: 'c' }))).toMatchObject({ status: 'done' });
    await restarted.channel.stop();
  });

  it('is judged like any command while the wall clock is trusted, and refuses unknown arguments', async () => {
    const clock = new FakeClock();
    const { channel: c } = await channel({ dir: await tempDir(), clock, calls: [] });
    const nowS = Math.floor(clock.nowMs() / 1000);
    const stale = resetTime(clock, 'r1', 0, { iat: nowS - 7200, exp: nowS - 7000 });
    expect(await c.handle(stale)).toMatchObject({ code: 'expired' });
    expect(await c.handle(resetTime(clock, 'r2', 0, { args: { trustedS: 0, to: 5 } }))).toMatchObject({
      code: 'bad-payload',
    });
    await c.stop();
  });
});

describe('replay cache from the future', () => {
  it('lowers a trusted time, entries and floor that are ahead of the ceiling, durably', async () => {
    const file = path.join(await tempDir(), 'replay.log');
    const farS = 2_000_000_000;
    await writeFile(
      file,
      `{"v":1,"floor":${farS + 60},"trusted":${farS * 1000}}\n["f",${farS + 60},${farS}]\n`,
    );
    const cache = await ReplayCache.open(file, { capacity: 10 });
    const ceilingMs = 1_767_225_600_000; // 2026-01-01
    expect(await cache.clampTo(ceilingMs, 3600)).toBe(farS * 1000);
    expect(await cache.clampTo(ceilingMs, 3600)).toBeUndefined();
    await cache.close();
    const reopened = await ReplayCache.open(file, { capacity: 10 });
    expect(reopened.trustedMs).toBe(ceilingMs);
    expect(reopened.floorS).toBe(ceilingMs / 1000 + 3600);
    expect(reopened.check('f', farS + 60)).toBe('replayed');
    expect(reopened.check('new', ceilingMs / 1000 + 3601)).toBe('fresh');
    await reopened.close();
  });
});
