/**
 * The BLE bus contract (agent/hal/ble/types.ts), run against the simulator — a real noble instance
 * over simulated bindings — always. The Linux backend is checked for the one thing every machine can
 * check: starting a scan either works or fails with a typed `BleUnavailableError`, never by throwing
 * at import or leaving an unhandled rejection. Where the kernel has no Bluetooth sockets (containers,
 * this CI) that is the `no-bluetooth-support` error; on a Pi with a working adapter it is a scan.
 */
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../agent/core/clock.js';
import { type BleUnavailableError, isBleUnavailable } from '../../agent/hal/ble/errors.js';
import { LinuxBle } from '../../agent/hal/ble/linux.js';
import { SimBle } from '../../agent/hal/ble/sim.js';
import type { Advertisement, BleScanListener } from '../../agent/hal/ble/types.js';
import { FakeClock } from '../support/fake-clock.js';
import { rejection } from '../support/rejection.js';

const THERMO = 'a4:c1:38:00:00:01';
const DOOR = 'a4:c1:38:00:00:02';
const BTHOME = (bytes: number[]) => [{ uuid: 'fcd2', data: Uint8Array.from(bytes) }];

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function recorder(): BleScanListener & { seen: Advertisement[]; endings: BleUnavailableError[] } {
  const seen: Advertisement[] = [];
  const endings: BleUnavailableError[] = [];
  return { seen, endings, advertisement: (a) => seen.push(a), ended: (e) => endings.push(e) };
}

describe('BLE contract: SimBle (noble over simulated bindings)', () => {
  const make = (state?: 'poweredOn' | 'poweredOff' | 'unsupported' | 'unauthorized' | 'unknown') => {
    const clock = new FakeClock();
    return { clock, sim: new SimBle({ clock, ...(state ? { state } : {}) }) };
  };

  it('delivers the advertisements of the watched address, with lowercase address and service data', async () => {
    const { sim } = make();
    const r = recorder();
    await sim.startScan({ address: THERMO.toUpperCase() }, r);
    sim.advertise({
      address: THERMO.toUpperCase(),
      rssi: -71,
      localName: 'ATC_000001',
      serviceData: BTHOME([0x40, 0x01, 0x5d]),
    });
    sim.advertise({ address: DOOR, serviceData: BTHOME([0x40, 0x2d, 0x01]) });
    await settle();
    expect(r.seen).toEqual([
      {
        address: THERMO,
        rssi: -71,
        localName: 'ATC_000001',
        serviceData: [{ uuid: 'fcd2', data: Uint8Array.of(0x40, 0x01, 0x5d) }],
        manufacturerData: undefined,
      },
    ]);
  });

  it('delivers every address to a scan without an address filter', async () => {
    const { sim } = make();
    const r = recorder();
    await sim.startScan({}, r);
    sim.advertise({ address: THERMO });
    sim.advertise({ address: DOOR });
    await settle();
    expect(r.seen.map((a) => a.address)).toEqual([THERMO, DOOR]);
  });

  it('delivers duplicates: each copy a sensor repeats is heard', async () => {
    const { sim } = make();
    const r = recorder();
    await sim.startScan({ address: THERMO }, r);
    for (let i = 0; i < 3; i++) sim.advertise({ address: THERMO, serviceData: BTHOME([0x40, 0x00, 0x07]) });
    await settle();
    expect(r.seen).toHaveLength(3);
  });

  it('shares one radio scan among many scans and stops the radio with the last one', async () => {
    const { sim } = make();
    const a = await sim.startScan({ address: THERMO }, recorder());
    const b = await sim.startScan({ address: DOOR }, recorder());
    expect(sim.scanStarts).toBe(1);
    await a.stop();
    expect(sim.scanning).toBe(true);
    await b.stop();
    expect(sim.scanning).toBe(false);
    await settle();
    await sim.startScan({}, recorder());
    expect(sim.scanStarts).toBe(2);
    expect(sim.scanning).toBe(true);
  });

  it('joins concurrent starts onto one radio scan', async () => {
    const { sim } = make();
    await Promise.all([sim.startScan({}, recorder()), sim.startScan({ address: DOOR }, recorder())]);
    expect(sim.scanStarts).toBe(1);
  });

  it('stop() ends delivery at once, is idempotent, and does not call ended', async () => {
    const { sim } = make();
    const r = recorder();
    const scan = await sim.startScan({ address: THERMO }, r);
    sim.advertise({ address: THERMO });
    await scan.stop();
    await scan.stop();
    await settle();
    expect(scan.active).toBe(false);
    expect(r.seen).toEqual([]);
    expect(r.endings).toEqual([]);
  });

  it('ends every scan with powered-off when the adapter is switched off, and refuses new ones until it is back', async () => {
    const { sim } = make();
    const a = recorder();
    const b = recorder();
    const scanA = await sim.startScan({ address: THERMO }, a);
    await sim.startScan({}, b);
    sim.setAdapterState('poweredOff');
    await settle();
    expect(a.endings.map((e) => e.reason)).toEqual(['powered-off']);
    expect(b.endings.map((e) => e.reason)).toEqual(['powered-off']);
    expect(scanA.active).toBe(false);
    expect(sim.state).toBe('poweredOff');
    const e = await rejection(sim.startScan({}, recorder()));
    expect(isBleUnavailable(e) && e.reason).toBe('powered-off');

    sim.setAdapterState('poweredOn');
    await settle();
    const c = recorder();
    await sim.startScan({ address: THERMO }, c);
    sim.advertise({ address: THERMO });
    await settle();
    expect(c.seen).toHaveLength(1);
  });

  it.each([
    ['unsupported', 'unsupported'],
    ['unauthorized', 'unauthorized'],
    ['poweredOff', 'powered-off'],
  ] as const)('rejects startScan with a typed error when the adapter is %s', async (state, reason) => {
    const { sim } = make(state);
    const e = await rejection(sim.startScan({}, recorder()));
    expect(isBleUnavailable(e)).toBe(true);
    expect((e as BleUnavailableError).reason).toBe(reason);
    expect((e as BleUnavailableError).code).toBe('EBLE_UNAVAILABLE');
    expect(sim.scanning).toBe(false);
  });

  it('rejects with timeout when the adapter never says it is ready', async () => {
    const { sim, clock } = make('unknown');
    const starting = sim.startScan({}, recorder());
    const outcome = rejection(starting);
    await clock.advance(5000);
    const e = await outcome;
    expect(isBleUnavailable(e) && e.reason).toBe('timeout');
    expect(clock.pendingTimers).toBe(0);
  });

  it('close() stops every scan without calling ended, and the radio', async () => {
    const { sim, clock } = make();
    const r = recorder();
    const scan = await sim.startScan({}, r);
    await sim.close();
    expect(scan.active).toBe(false);
    expect(r.endings).toEqual([]);
    expect(sim.scanning).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it("keeps delivering after noble's peripheral caches are dropped (every 10 min)", async () => {
    const { sim, clock } = make();
    const r = recorder();
    await sim.startScan({ address: THERMO }, r);
    await clock.advance(600_000);
    sim.advertise({ address: THERMO, localName: 'after' });
    await settle();
    expect(r.seen.map((a) => a.localName)).toEqual(['after']);
  });

  it('refuses a malformed address or listener with a TypeError naming it', async () => {
    const { sim } = make();
    await expect(sim.startScan({ address: 'a4:c1:38' }, recorder())).rejects.toThrow(/filter\.address/);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong, as JavaScript could pass
    await expect(sim.startScan({}, {} as any)).rejects.toThrow(/listener\.advertisement/);
    expect(() => sim.advertise({ address: 'nope' })).toThrow(/advertisement\.address/);
  });
});

describe('BLE contract: LinuxBle on this machine', () => {
  it('starts a scan, or fails with a typed BleUnavailableError — never a throw at import or a crash', async () => {
    const ble = new LinuxBle({ clock: new SystemClock(), readyTimeoutMs: 3000 });
    try {
      const scan = await ble.startScan({}, { advertisement: () => undefined });
      // A working adapter (a Pi): the scan runs until stopped.
      expect(scan.active).toBe(true);
      await scan.stop();
    } catch (e) {
      expect(isBleUnavailable(e)).toBe(true);
      expect((e as BleUnavailableError).message).not.toBe('');
      // Asking again gives the same answer, quickly and without touching noble a second time.
      const again = await rejection(ble.startScan({}, { advertisement: () => undefined }));
      expect(isBleUnavailable(again) && again.reason).toBe((e as BleUnavailableError).reason);
    } finally {
      await ble.close();
    }
  });

  it('names an adapter hci<N> or refuses it', () => {
    expect(() => new LinuxBle({ clock: new SystemClock(), adapter: 'bluetooth0' })).toThrow(TypeError);
    expect(() => new LinuxBle({ clock: new SystemClock(), adapter: 'hci1' })).not.toThrow();
  });
});
