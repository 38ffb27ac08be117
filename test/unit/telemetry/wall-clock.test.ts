/**
 * Trusting the wall clock on a board without an RTC: NTP (an injected seam), or a clock already past
 * the last time it was known good; per-boot offsets persisted so later processes can correct.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../agent/core/log.js';
import { openTelemetryStore, type TelemetryStore } from '../../../agent/telemetry/store.js';
import {
  linuxNtpSynchronized,
  WallClock,
  type WallClockOptions,
} from '../../../agent/telemetry/wall-clock.js';
import { FakeClock } from '../../support/fake-clock.js';
import { tempDirs } from '../../support/temp-dir.js';
import { trackStore } from '../../support/tracked-store.js';

const tempDir = tempDirs('edge-wallclock-');
const OPTIONS: WallClockOptions = { mode: 'ntp', pollMs: 5000, persistEveryMs: 60_000 };

/** Runs `fn` on a store; `idle()` resolves once the store's I/O (and what it started) has finished. */
async function withStore<T>(
  dir: string,
  fn: (store: TelemetryStore, idle: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const tracked = trackStore(await openTelemetryStore(dir));
  const { store } = tracked;
  try {
    return await fn(store, () => tracked.idle());
  } finally {
    await store.close();
  }
}

describe('WallClock', () => {
  it('is trusted at once in system mode', async () => {
    await withStore(await tempDir(), async (store) => {
      const w = new WallClock(
        {
          clock: new FakeClock(),
          log: silentLogger(),
          meta: store.meta,
          isWallClockTrusted: async () => false,
        },
        { ...OPTIONS, mode: 'system' },
      );
      await w.start('00000001-aaaaaaaa');
      expect(w.trusted).toBe(true);
      await w.stop();
    });
  });

  it('waits for NTP, then becomes trusted, emits the offset and persists it for its boot', async () => {
    const dir = await tempDir();
    const clock = new FakeClock({ wallMs: 86_400_000, monoMs: 10_000 }); // 1970: no RTC
    let synced = false;
    const trusted: number[] = [];
    await withStore(dir, async (store, idle) => {
      const w = new WallClock(
        { clock, log: silentLogger(), meta: store.meta, isWallClockTrusted: async () => synced },
        OPTIONS,
      );
      w.on('trusted', ({ offsetMs }) => trusted.push(offsetMs));
      await w.start('00000001-aaaaaaaa');
      expect(w.trusted).toBe(false);
      await clock.advance(5000);
      await idle();
      expect(w.trusted).toBe(false);
      synced = true;
      clock.setWallMs(Date.UTC(2026, 2, 1)); // NTP stepped the clock (monotonic: 15 s)
      await clock.advance(5000);
      await idle();
      expect(w.trusted).toBe(true);
      expect(trusted).toEqual([Date.UTC(2026, 2, 1) - 15_000]);
      expect(w.offsetFor('00000001-aaaaaaaa')).toBe(Date.UTC(2026, 2, 1) - 15_000);
      await w.stop();
    });
    // A later process can still correct that boot's readings.
    await withStore(dir, async (store) => {
      const w = new WallClock(
        {
          clock: new FakeClock(),
          log: silentLogger(),
          meta: store.meta,
          isWallClockTrusted: async () => false,
        },
        OPTIONS,
      );
      await w.start('00000002-bbbbbbbb');
      expect(w.offsetFor('00000001-aaaaaaaa')).toBe(Date.UTC(2026, 2, 1) - 15_000);
      await w.stop();
    });
  });

  it('trusts a clock later than the last trusted time at start, but not one restored to an older time', async () => {
    const dir = await tempDir();
    await withStore(dir, async (store) => {
      const w = new WallClock(
        {
          clock: new FakeClock({ wallMs: Date.UTC(2026, 0, 1) }),
          log: silentLogger(),
          meta: store.meta,
          isWallClockTrusted: async () => true,
        },
        OPTIONS,
      );
      await w.start('00000001-aaaaaaaa');
      await w.stop(); // persists "good at 2026-01-01"
    });
    const startAt = async (wallMs: number) =>
      withStore(dir, async (store) => {
        const w = new WallClock(
          {
            clock: new FakeClock({ wallMs }),
            log: silentLogger(),
            meta: store.meta,
            isWallClockTrusted: async () => false,
          },
          OPTIONS,
        );
        await w.start('00000002-bbbbbbbb');
        await w.stop();
        return w.trusted;
      });
    expect(await startAt(Date.UTC(2026, 0, 2))).toBe(true); // an RTC kept time while off
    expect(await startAt(Date.UTC(2025, 11, 31))).toBe(false); // fake-hwclock restored an old time
  });

  it('asks timedatectl for NTPSynchronized, and falls back to the timesyncd flag file', async () => {
    type Run = Parameters<typeof linuxNtpSynchronized>[0];
    const answer = (error: Error | null, stdout: string) =>
      ((_cmd: string, args: string[], _opts: unknown, cb: (e: Error | null, out: string) => void) => {
        expect(args).toEqual(['show', '-p', 'NTPSynchronized', '--value']);
        cb(error, stdout);
      }) as unknown as Run;
    expect(await linuxNtpSynchronized(answer(null, 'yes\n'))()).toBe(true);
    expect(await linuxNtpSynchronized(answer(null, 'no\n'))()).toBe(false);
    const missing = new Error('ENOENT');
    expect(await linuxNtpSynchronized(answer(missing, ''), async () => undefined)()).toBe(true);
    expect(
      await linuxNtpSynchronized(answer(missing, ''), async () => {
        throw new Error('ENOENT');
      })(),
    ).toBe(false);
  });
});
