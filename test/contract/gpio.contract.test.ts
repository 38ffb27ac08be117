/**
 * The GPIO contract (agent/hal/gpio/types.ts), run against the simulator and against the
 * character-device backend on fake libgpiod v2 tools (test/support/fake-gpiod/) always, and against
 * real hardware when HAL_TEST_GPIO_OUT and HAL_TEST_GPIO_IN name two lines wired together. On a Pi 4
 * (sysfs backend, the default):
 *   HAL_TEST_GPIO_OUT=pinctrl-bcm2711:20 HAL_TEST_GPIO_IN=pinctrl-bcm2711:21 npx vitest run test/contract
 * On a Pi 5 (Raspberry Pi OS trixie or Debian 13 with `apt install gpiod`, libgpiod v2 tools), the
 * character-device backend:
 *   HAL_TEST_GPIO_BACKEND=chardev HAL_TEST_GPIO_OUT=pinctrl-rp1:20 HAL_TEST_GPIO_IN=pinctrl-rp1:21 \
 *     npx vitest run test/contract/gpio.contract.test.ts
 * (a jumper between header pins 38 and 40, GPIO20 and GPIO21, in both cases; the user in the `gpio`
 * group). Time is the only difference: the sim's harness advances a FakeClock, the others sleep.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Clock, SystemClock } from '../../agent/core/clock.js';
import { ChardevGpio } from '../../agent/hal/gpio/chardev.js';
import { GpioError } from '../../agent/hal/gpio/errors.js';
import { LinuxGpio } from '../../agent/hal/gpio/linux.js';
import { SimGpio } from '../../agent/hal/gpio/sim.js';
import type {
  GpioBackend,
  GpioEdgeEvent,
  GpioInput,
  GpioLevel,
  GpioLineRef,
  GpioOutput,
} from '../../agent/hal/gpio/types.js';
import { FakeClock } from '../support/fake-clock.js';
import { childPids, fakeGpiodHost } from '../support/fake-gpiod.js';
import { tempDirs } from '../support/temp-dir.js';

interface Harness {
  readonly backend: GpioBackend;
  readonly out: GpioLineRef;
  readonly in: GpioLineRef;
  readonly clock: Clock;
  /** Lets `ms` of the backend's time pass. */
  wait(ms: number): Promise<void>;
  /** Checks, after `backend.close()`, that nothing is left behind (the chardev backend's children). */
  afterClose?(): void;
}

function parseLine(spec: string | undefined): GpioLineRef | undefined {
  if (!spec) return undefined;
  const at = spec.lastIndexOf(':');
  return { chip: spec.slice(0, at), offset: Number(spec.slice(at + 1)) };
}

const hwOut = parseLine(process.env.HAL_TEST_GPIO_OUT);
const hwIn = parseLine(process.env.HAL_TEST_GPIO_IN);
const hwBackend = process.env.HAL_TEST_GPIO_BACKEND === 'chardev' ? 'chardev' : 'sysfs';
const tempDir = tempDirs('edge-gpiod-');
/**
 * How long an input with edges may take to see a write (gpiomon's event, then its line parsed): a
 * few ms on a quiet machine or a Pi, more on a loaded CI runner; the sim has it at once.
 */
const EDGE_ARRIVES = { timeout: 2000, interval: 2 } as const;

function simHarness(): Harness {
  const clock = new FakeClock();
  const sim = new SimGpio({ clock, chips: [{ label: 'sim-gpio', ngpio: 32 }] });
  const out = { chip: 'sim-gpio', offset: 20 };
  const inp = { chip: 'sim-gpio', offset: 21 };
  sim.connect(out, inp);
  return { backend: sim, out, in: inp, clock, wait: (ms) => clock.advance(ms) };
}

/**
 * The character-device backend on the fake tools: a 32-line chip, lines 20 → 21 wired, gpioset with
 * its interactive mode. (Without it every write starts a process, which takes longer than this suite's
 * bounces on a small CI machine; test/unit/hal/gpio/chardev.test.ts covers that mode.)
 */
async function chardevFakeHarness(): Promise<Harness> {
  const clock = new SystemClock();
  const host = await fakeGpiodHost(await tempDir());
  const chip = await host.addChip('sim-gpio', 32);
  await host.wire(chip, 20, 21);
  await host.setInteractive(true);
  return {
    backend: new ChardevGpio({ clock, toolDir: host.toolDir }),
    out: { chip: 'sim-gpio', offset: 20 },
    in: { chip: 'sim-gpio', offset: 21 },
    clock,
    wait: (ms) => clock.sleep(ms),
    afterClose: () => {
      expect(childPids()).toEqual([]);
      expect([host.holder(chip, 20), host.holder(chip, 21)]).toEqual([undefined, undefined]);
    },
  };
}

function hardwareHarness(): Harness {
  const clock = new SystemClock();
  return {
    backend: hwBackend === 'chardev' ? new ChardevGpio({ clock }) : new LinuxGpio({ clock }),
    out: hwOut as GpioLineRef,
    in: hwIn as GpioLineRef,
    clock,
    wait: (ms) => clock.sleep(ms),
  };
}

function contract(makeHarness: () => Harness | Promise<Harness>): void {
  let h: Harness;
  beforeEach(async () => {
    h = await makeHarness();
  });
  afterEach(async () => {
    await h.backend.close();
    h.afterClose?.();
  });

  /** Opens the wired pair; the input reports both edges unless told otherwise. */
  async function pair(
    outOpts: { initial?: GpioLevel; activeLow?: boolean } = {},
    inOpts: Parameters<GpioBackend['openInput']>[1] = { edge: 'both' },
  ): Promise<{ out: GpioOutput; inp: GpioInput; events: GpioEdgeEvent[] }> {
    const out = await h.backend.openOutput(h.out, {
      initial: outOpts.initial ?? 0,
      activeLow: outOpts.activeLow,
    });
    const inp = await h.backend.openInput(h.in, inOpts);
    const events: GpioEdgeEvent[] = [];
    if ((inOpts?.edge ?? 'none') !== 'none') inp.watch((e) => events.push(e));
    await h.wait(5);
    return { out, inp, events };
  }

  describe('levels', () => {
    it('drives the initial level from the moment the output opens', async () => {
      const { inp } = await pair({ initial: 1 });
      await expect(inp.read()).resolves.toBe(1);
    });

    it('reads on the input what the output writes, and the output reads back its own level', async () => {
      const { out, inp } = await pair({ initial: 0 });
      await out.write(1);
      await h.wait(2);
      await expect.poll(() => inp.read(), EDGE_ARRIVES).toBe(1);
      await expect(out.read()).resolves.toBe(1);
      await out.write(0);
      await h.wait(2);
      await expect.poll(() => inp.read(), EDGE_ARRIVES).toBe(0);
    });

    it('inverts logical values on an activeLow output, including the initial level', async () => {
      const { out, inp } = await pair({ initial: 1, activeLow: true });
      await expect(inp.read()).resolves.toBe(0);
      await expect(out.read()).resolves.toBe(1);
      await out.write(0);
      await h.wait(2);
      await expect.poll(() => inp.read(), EDGE_ARRIVES).toBe(1);
    });

    it('inverts logical values on an activeLow input, edges included', async () => {
      const { out, inp, events } = await pair({ initial: 0 }, { edge: 'rising', activeLow: true });
      await expect(inp.read()).resolves.toBe(1);
      await out.write(1); // electrical rise = logical fall: not reported
      await h.wait(10);
      await out.write(0); // logical rise
      await h.wait(10);
      expect(events.map((e) => e.value)).toEqual([1]);
    });
  });

  describe('edges', () => {
    it('reports each transition with its level and a monotonic timestamp when watching both edges', async () => {
      const { out, events } = await pair({ initial: 0 }, { edge: 'both' });
      const before = h.clock.monotonicMs();
      await out.write(1);
      await h.wait(10);
      await out.write(0);
      await h.wait(10);
      expect(events.map((e) => e.value)).toEqual([1, 0]);
      const [first, second] = events;
      expect(first?.monoMs).toBeGreaterThanOrEqual(before);
      expect(second?.monoMs).toBeGreaterThanOrEqual(first?.monoMs ?? Number.POSITIVE_INFINITY);
      expect(second?.monoMs).toBeLessThanOrEqual(h.clock.monotonicMs());
    });

    it.each([
      ['rising', [1, 1]],
      ['falling', [0, 0]],
    ] as const)('reports only %s edges when asked for them', async (edge, expected) => {
      const { out, events } = await pair({ initial: 0 }, { edge });
      for (const v of [1, 0, 1, 0] as const) {
        await out.write(v);
        await h.wait(10);
      }
      expect(events.map((e) => e.value)).toEqual(expected);
    });

    it('ignores bounces shorter than debounceMs and reports a stable change once, after debounceMs', async () => {
      const { out, events } = await pair({ initial: 0 }, { edge: 'both', debounceMs: 40 });
      // A glitch that returns to the settled level is no change at all.
      await out.write(1);
      await h.wait(5);
      await out.write(0);
      await h.wait(80);
      expect(events).toEqual([]);
      // A bouncing close: 1,0,1,0,1 every 5 ms, then stable.
      const startedMs = h.clock.monotonicMs();
      for (const v of [1, 0, 1, 0, 1] as const) {
        await out.write(v);
        await h.wait(5);
      }
      await h.wait(15);
      expect(events).toEqual([]); // still within debounceMs of the last bounce
      await h.wait(60);
      expect(events.map((e) => e.value)).toEqual([1]);
      expect(events[0]?.monoMs).toBeGreaterThanOrEqual(startedMs);
    });

    it('stops calling a watcher once it is removed, while others keep watching', async () => {
      const { out, inp, events } = await pair({ initial: 0 }, { edge: 'both' });
      const second: GpioEdgeEvent[] = [];
      const remove = inp.watch((e) => second.push(e));
      await out.write(1);
      await h.wait(10);
      remove();
      await out.write(0);
      await h.wait(10);
      expect(second.map((e) => e.value)).toEqual([1]);
      expect(events.map((e) => e.value)).toEqual([1, 0]);
    });
  });

  describe('close', () => {
    it('removes watchers: no callback after close, not even a pending debounce', async () => {
      const { out, inp, events } = await pair({ initial: 0 }, { edge: 'both', debounceMs: 30 });
      await out.write(1);
      await h.wait(5);
      await inp.close();
      await h.wait(60);
      await out.write(0);
      await h.wait(60);
      expect(events).toEqual([]);
      expect(inp.isOpen).toBe(false);
    });

    it('rejects reads and writes on a closed handle with ECLOSED, and is idempotent', async () => {
      const { out, inp } = await pair();
      await out.close();
      await inp.close();
      await inp.close();
      await expect(out.write(1)).rejects.toMatchObject({ code: 'ECLOSED' });
      await expect(out.read()).rejects.toMatchObject({ code: 'ECLOSED' });
      await expect(inp.read()).rejects.toMatchObject({ code: 'ECLOSED' });
      expect(() => inp.watch(() => undefined)).toThrow(GpioError);
    });

    it('rejects a read still pending when the handle is closed', async () => {
      const { inp } = await pair();
      const pending = inp.read();
      await inp.close();
      await expect(pending).rejects.toMatchObject({ code: 'ECLOSED' });
    });

    it('frees the line: a closed line can be opened again, an open one cannot', async () => {
      const out = await h.backend.openOutput(h.out, { initial: 0 });
      await expect(h.backend.openInput(h.out)).rejects.toMatchObject({ code: 'EBUSY' });
      await out.close();
      const again = await h.backend.openOutput(h.out, { initial: 0 });
      expect(again.isOpen).toBe(true);
    });
  });

  describe('errors', () => {
    it('names the unknown label and the labels that exist', async () => {
      const labels = (await h.backend.listChips()).map((c) => c.label);
      const error = await h.backend.openInput({ chip: 'no-such-chip', offset: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GpioError);
      expect(error).toMatchObject({ code: 'EUNKNOWN_CHIP', chips: labels });
      expect((error as Error).message).toContain('no-such-chip');
      expect((error as Error).message).toContain(h.in.chip);
    });

    it('refuses an offset beyond the chip, naming the chip and its line count', async () => {
      const chip = (await h.backend.listChips()).find((c) => c.label === h.out.chip);
      expect(chip).toBeDefined();
      const ngpio = chip?.ngpio ?? 0;
      const error = await h.backend
        .openOutput({ chip: h.out.chip, offset: ngpio }, { initial: 0 })
        .catch((e) => e);
      expect(error).toMatchObject({ code: 'EOFFSET_RANGE' });
      expect((error as Error).message).toContain(`${ngpio} lines`);
    });

    it('throws TypeError for misuse: bad offset, bad level, write to an input, watch on an output or on edge none', async () => {
      await expect(h.backend.openInput({ chip: h.in.chip, offset: -1 })).rejects.toThrow(TypeError);
      await expect(h.backend.openOutput(h.out, { initial: 2 as GpioLevel })).rejects.toThrow(TypeError);
      const out = await h.backend.openOutput(h.out, { initial: 0 });
      const inp = await h.backend.openInput(h.in, { edge: 'none' });
      await expect(out.write(2 as GpioLevel)).rejects.toThrow(/value must be 0 or 1/);
      const asOutput = inp as unknown as GpioOutput;
      await expect(asOutput.write(1)).rejects.toThrow(TypeError);
      const asInput = out as unknown as GpioInput;
      expect(() => asInput.watch(() => undefined)).toThrow(TypeError);
      expect(() => inp.watch(() => undefined)).toThrow(TypeError);
    });
  });
}

describe('GPIO contract: SimGpio', () => {
  contract(simHarness);
});

describe('GPIO contract: ChardevGpio on fake libgpiod v2 tools', () => {
  contract(chardevFakeHarness);
});

describe.skipIf(!hwOut || !hwIn)(
  `GPIO contract: ${hwBackend === 'chardev' ? 'ChardevGpio' : 'LinuxGpio'} on HAL_TEST_GPIO_OUT → HAL_TEST_GPIO_IN`,
  () => {
    contract(hardwareHarness);
  },
);
