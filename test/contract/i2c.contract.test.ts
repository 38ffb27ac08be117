/**
 * The I²C bus contract (agent/hal/i2c/types.ts), run against the simulator always and against a real
 * adapter when HAL_TEST_I2C names one (`1` or `/dev/i2c-1`) and HAL_TEST_I2C_ADDR a device on it.
 * On hardware the suite only reads: HAL_TEST_I2C_REG (default 0x00) must be a register that is safe
 * to read; HAL_TEST_I2C_ABSENT may name an address known to be empty for the NACK test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { I2cError, isI2cError, isI2cNack } from '../../agent/hal/i2c/errors.js';
import { createI2cBackend } from '../../agent/hal/i2c/index.js';
import { SimI2c } from '../../agent/hal/i2c/sim.js';
import { SimRegisterChip } from '../../agent/hal/i2c/sim-register-chip.js';
import type { I2cBackend, I2cBus } from '../../agent/hal/i2c/types.js';

interface Target {
  readonly backend: I2cBackend;
  readonly busNumber: number;
  readonly address: number;
  readonly register: number;
  readonly absentAddress: number | undefined;
}

function contract(name: string, makeTarget: () => Target | Promise<Target>): void {
  describe(`I2cBus contract (${name})`, () => {
    let t: Target;
    let bus: I2cBus;

    beforeEach(async () => {
      t = await makeTarget();
      bus = await t.backend.open(t.busNumber);
    });

    afterEach(async () => {
      await t.backend.close();
    });

    it('reads one byte from a device that is there', async () => {
      const value = await bus.readByte(t.address, t.register);
      expect(Number.isInteger(value) && value >= 0 && value <= 255).toBe(true);
    });

    it('resolves a block read with exactly the requested number of bytes', async () => {
      const bytes = await bus.readBlock(t.address, t.register, 4);
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(bytes.length).toBe(4);
    });

    it('resolves a plain read with exactly the requested number of bytes', async () => {
      const bytes = await bus.i2cRead(t.address, 2);
      expect(bytes.length).toBe(2);
    });

    it.skipIf(name !== 'sim' && process.env.HAL_TEST_I2C_ABSENT === undefined)(
      'rejects a transaction to an address where nothing answers with a NACK code',
      async () => {
        const error = await bus.readByte(t.absentAddress!, 0).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(I2cError);
        expect(isI2cNack(error)).toBe(true);
        expect((error as I2cError).address).toBe(t.absentAddress);
        expect((error as I2cError).busNumber).toBe(t.busNumber);
      },
    );

    it.each([
      ['address', (b: I2cBus) => b.readByte(0x02, 0)],
      ['address', (b: I2cBus) => b.readByte(0x78, 0)],
      ['address', (b: I2cBus) => b.readByte(1.5, 0)],
      ['cmd', (b: I2cBus) => b.readByte(t.address, 256)],
      ['cmd', (b: I2cBus) => b.readBlock(t.address, -1, 1)],
      ['length', (b: I2cBus) => b.readBlock(t.address, 0, 0)],
      ['length', (b: I2cBus) => b.readBlock(t.address, 0, 33)],
      ['value', (b: I2cBus) => b.writeByte(t.address, 0, 256)],
      ['bytes', (b: I2cBus) => b.writeBlock(t.address, 0, new Uint8Array(33))],
      ['bytes', (b: I2cBus) => b.i2cWrite(t.address, new Uint8Array(0))],
      ['bytes', (b: I2cBus) => b.i2cWrite(t.address, [1, 2] as unknown as Uint8Array)],
      ['length', (b: I2cBus) => b.i2cRead(t.address, 0)],
      ['length', (b: I2cBus) => b.i2cRead(t.address, 8193)],
    ])(
      'refuses a bad %s with a TypeError naming it, before anything reaches the bus',
      async (param, call) => {
        await expect(call(bus)).rejects.toThrow(TypeError);
        await expect(call(bus)).rejects.toThrow(new RegExp(`^${param} `));
      },
    );

    it('refuses a bus number that is not a non-negative integer', async () => {
      await expect(t.backend.open(-1)).rejects.toThrow(/^busNumber /);
    });

    it('rejects opening an adapter that does not exist with ENOENT', async () => {
      const error = await t.backend.open(250).catch((e: unknown) => e);
      expect(isI2cError(error, 'ENOENT')).toBe(true);
    });

    it('rejects every transaction after close with ECLOSED, and closes idempotently', async () => {
      await bus.close();
      expect(bus.isOpen).toBe(false);
      await bus.close();
      const error = await bus.readByte(t.address, t.register).catch((e: unknown) => e);
      expect(isI2cError(error, 'ECLOSED')).toBe(true);
      await expect(bus.i2cRead(t.address, 1)).rejects.toMatchObject({ code: 'ECLOSED' });
    });

    it('lets a transaction started before close settle on its own merits', async () => {
      const pending = bus.readByte(t.address, t.register);
      const closed = bus.close();
      await expect(pending).resolves.toEqual(expect.any(Number));
      await closed;
    });

    it('closes every handle still open when the backend closes', async () => {
      const second = await t.backend.open(t.busNumber);
      await t.backend.close();
      expect(bus.isOpen).toBe(false);
      expect(second.isOpen).toBe(false);
    });
  });
}

/** A 256-byte RAM at one address, like a 24C02 EEPROM: the simplest register chip. */
class RamChip extends SimRegisterChip {
  constructor() {
    super({ writes: 'auto-increment' });
    for (let r = 0; r < 256; r++) this.poke(r, r ^ 0x5a);
  }
}

contract('sim', () => {
  const sim = new SimI2c({ buses: [1] });
  sim.attach(1, 0x50, new RamChip());
  return { backend: sim, busNumber: 1, address: 0x50, register: 0x00, absentAddress: 0x51 };
});

const hardwareBus = process.env.HAL_TEST_I2C;
const hardwareAddress = process.env.HAL_TEST_I2C_ADDR;
describe.skipIf(hardwareBus === undefined || hardwareAddress === undefined)('on hardware', () => {
  contract(`linux ${hardwareBus}`, async () => ({
    backend: await createI2cBackend('linux'),
    busNumber: Number(/(\d+)$/.exec(hardwareBus ?? '')?.[1]),
    address: Number(hardwareAddress),
    register: Number(process.env.HAL_TEST_I2C_REG ?? 0),
    absentAddress:
      process.env.HAL_TEST_I2C_ABSENT === undefined ? undefined : Number(process.env.HAL_TEST_I2C_ABSENT),
  }));
});

describe('SimI2c device side', () => {
  let sim: SimI2c;
  let ram: RamChip;
  let bus: I2cBus;

  beforeEach(async () => {
    sim = new SimI2c();
    ram = new RamChip();
    sim.attach(1, 0x50, ram);
    bus = await sim.open(1);
  });

  it('turns an SMBus register read into a pointer write and a read, as on the wire', async () => {
    await bus.writeByte(0x50, 0x10, 0xab);
    expect(ram.peek(0x10)).toBe(0xab);
    expect(await bus.readByte(0x50, 0x10)).toBe(0xab);
    await bus.writeBlock(0x50, 0x20, Uint8Array.of(1, 2, 3));
    expect([...(await bus.readBlock(0x50, 0x1f, 5))]).toEqual([0x1f ^ 0x5a, 1, 2, 3, 0x23 ^ 0x5a]);
    // A plain read continues from where the pointer was left.
    expect([...(await bus.i2cRead(0x50, 1))]).toEqual([0x24 ^ 0x5a]);
    await bus.i2cWrite(0x50, Uint8Array.of(0x30));
    expect([...(await bus.i2cRead(0x50, 2))]).toEqual([0x30 ^ 0x5a, 0x31 ^ 0x5a]);
  });

  it('counts the bus reads of each register for tests that check what a driver read', async () => {
    await bus.readBlock(0x50, 0x00, 3);
    await bus.readByte(0x50, 0x01);
    expect([ram.readCount(0), ram.readCount(1), ram.readCount(3)]).toEqual([1, 2, 0]);
  });

  it('NACKs while a chip is not present and answers again when it comes back', async () => {
    ram.present = false;
    await expect(bus.readByte(0x50, 0)).rejects.toMatchObject({ code: 'EREMOTEIO', address: 0x50 });
    ram.present = true;
    await expect(bus.readByte(0x50, 0)).resolves.toBe(0x5a);
  });

  it('NACKs a detached chip, and a chip can be attached again', async () => {
    sim.detach(1, 0x50);
    expect(sim.chip(1, 0x50)).toBeUndefined();
    await expect(bus.readByte(0x50, 0)).rejects.toSatisfy(isI2cNack);
    sim.attach(1, 0x50, ram);
    expect(sim.chip(1, 0x50)).toBe(ram);
    await expect(bus.readByte(0x50, 0)).resolves.toBe(0x5a);
  });

  it('refuses two chips at one address', () => {
    expect(() => sim.attach(1, 0x50, new RamChip())).toThrow(TypeError);
  });

  it('fails the next transactions with an injected code without reaching the chip', async () => {
    sim.failNext(1, 0x50, { code: 'ETIMEDOUT', count: 2 });
    await expect(bus.writeByte(0x50, 0x00, 0xff)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(bus.readByte(0x50, 0x00)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(ram.peek(0x00)).toBe(0x5a);
    await expect(bus.readByte(0x50, 0x00)).resolves.toBe(0x5a);
  });

  it('pads a read the chip answers short with 0xFF, as from an undriven line', async () => {
    sim.attach(1, 0x60, { present: true, onWrite: () => 'ack', onRead: () => Uint8Array.of(7) });
    expect([...(await bus.i2cRead(0x60, 3))]).toEqual([7, 0xff, 0xff]);
  });

  it('creates an adapter when a chip is attached to a new bus number', async () => {
    await expect(sim.open(3)).rejects.toMatchObject({ code: 'ENOENT' });
    sim.attach(3, 0x50, new RamChip());
    const bus3 = await sim.open(3);
    await expect(bus3.readByte(0x50, 0)).resolves.toBe(0x5a);
  });

  it('keeps all state per instance', async () => {
    const other = new SimI2c();
    const otherBus = await other.open(1);
    await expect(otherBus.readByte(0x50, 0)).rejects.toSatisfy(isI2cNack);
  });

  it('tells how many handles are open, so tests can check drivers close theirs', async () => {
    const second = await sim.open(1);
    expect(sim.openHandles(1)).toBe(2);
    await second.close();
    await bus.close();
    expect(sim.openHandles()).toBe(0);
  });

  it('is what createI2cBackend returns for a sim board', async () => {
    expect(await createI2cBackend('sim', sim)).toBe(sim);
    expect((await createI2cBackend('sim')).kind).toBe('sim');
    expect((await createI2cBackend('linux')).kind).toBe('linux');
  });
});
