/**
 * The character-device backend beyond the shared contract (test/contract/gpio.contract.test.ts runs
 * that on the fake tools with gpioset's interactive mode): the mode Debian's packages give — a gpioset
 * without `--interactive`, one process per write —, the arguments each tool gets, the version check,
 * tools that die, lines held by someone else, kernel timestamps, and no child left behind. The tools
 * are the fakes of test/support/fake-gpiod/ (real processes, real signals); the fixtures under
 * test/fixtures/gpiod/ are what the real v2.2.1 and v1.6.3 tools printed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../../agent/core/clock.js';
import { DeviceAbsentError } from '../../../../agent/hal/device.js';
import { openError } from '../../../../agent/hal/drivers/gpio-options.js';
import { ChardevGpio } from '../../../../agent/hal/gpio/chardev.js';
import type { GpioEdgeEvent } from '../../../../agent/hal/gpio/types.js';
import { childPids, type FakeGpiodHost, fakeGpiodHost } from '../../../support/fake-gpiod.js';
import { tempDirs } from '../../../support/temp-dir.js';
import { until } from '../../../support/until.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/gpiod/', import.meta.url));
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const tempDir = tempDirs('edge-chardev-');
const OUT = { chip: 'sim-gpio', offset: 20 };
const IN = { chip: 'sim-gpio', offset: 21 };

let backends: ChardevGpio[] = [];
afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  backends = [];
  expect(childPids()).toEqual([]);
});

async function setup(): Promise<{
  host: FakeGpiodHost;
  gpio: ChardevGpio;
  chip: string;
  clock: SystemClock;
}> {
  const host = await fakeGpiodHost(await tempDir());
  const chip = await host.addChip('sim-gpio', 32);
  await host.wire(chip, 20, 21);
  const clock = new SystemClock();
  const gpio = new ChardevGpio({ clock, toolDir: host.toolDir });
  backends.push(gpio);
  return { host, gpio, chip, clock };
}

const runs = async (host: FakeGpiodHost, tool: string) =>
  (await host.calls()).filter((c) => c.startsWith(`${tool} `) && !/--(version|help)/.test(c));

describe('ChardevGpio with a gpioset without interactive mode (Debian, Ubuntu)', () => {
  it('holds an output with one gpioset, and writes by starting another with the new level', async () => {
    const { host, gpio, chip } = await setup();
    const out = await gpio.openOutput(OUT, { initial: 1 });
    expect(host.level(chip, 20)).toBe(1);
    const first = host.holder(chip, 20);
    expect(first).toBeGreaterThan(0);
    await out.write(0);
    expect(host.level(chip, 20)).toBe(0);
    expect(host.holder(chip, 20)).not.toBe(first);
    await out.write(0); // same level, line still held: nothing to do
    await expect(out.read()).resolves.toBe(0);
    expect(await runs(host, 'gpioset')).toEqual([
      'gpioset --banner --consumer edge-agent --chip gpiochip0 20=1',
      'gpioset --banner --consumer edge-agent --chip gpiochip0 20=0',
    ]);
    await out.close();
    expect(host.holder(chip, 20)).toBeUndefined();
    expect(host.level(chip, 20)).toBe(0); // released, not reset (a Pi keeps driving the pin)
  });

  it('writes in order when writes overlap', async () => {
    const { host, gpio, chip } = await setup();
    const out = await gpio.openOutput(OUT, { initial: 0 });
    await Promise.all([out.write(1), out.write(0), out.write(1)]);
    expect(host.level(chip, 20)).toBe(1);
    expect(await runs(host, 'gpioset')).toHaveLength(4);
  });

  it('passes active-low, drive, bias and debounce to the tools', async () => {
    const { host, gpio, chip } = await setup();
    await gpio.openOutput(OUT, { initial: 1, activeLow: true, drive: 'open-drain' });
    expect(host.level(chip, 20)).toBe(0);
    await gpio.openInput(IN, { edge: 'rising', bias: 'pull-up', activeLow: true, debounceMs: 12.5 });
    const common = '--consumer edge-agent --chip gpiochip0 --active-low';
    expect(await host.calls()).toEqual(
      expect.arrayContaining([
        `gpioset --banner ${common} --drive=open-drain 20=1`,
        `gpioget ${common} --bias=pull-up --numeric 21`,
        `gpiomon --banner ${common} --bias=pull-up --edges=both --format=%e %S --debounce-period=12500us 21`,
      ]),
    );
  });

  it('reads an edge-less input with one gpioget per read, holding nothing in between', async () => {
    const { host, gpio, chip } = await setup();
    const inp = await gpio.openInput(IN);
    expect(host.holder(chip, 21)).toBeUndefined();
    const out = await gpio.openOutput(OUT, { initial: 1 });
    await expect(inp.read()).resolves.toBe(1);
    await out.write(0);
    await expect(inp.read()).resolves.toBe(0);
    expect(await runs(host, 'gpioget')).toHaveLength(3);
  });
});

describe('ChardevGpio with gpioset --interactive', () => {
  it('keeps one gpioset for the life of an output and writes through its stdin', async () => {
    const { host, gpio, chip } = await setup();
    await host.setInteractive(true);
    const out = await gpio.openOutput(OUT, { initial: 0 });
    for (const v of [1, 0, 1] as const) {
      await out.write(v);
      expect(host.level(chip, 20)).toBe(v);
    }
    expect(await runs(host, 'gpioset')).toEqual([
      'gpioset --banner --consumer edge-agent --chip gpiochip0 --interactive 20=0',
    ]);
  });
});

describe('ChardevGpio events', () => {
  it('stamps edges with the kernel timestamp gpiomon prints, converted to the clock', async () => {
    const host = await fakeGpiodHost(await tempDir());
    const chip = await host.addChip('sim-gpio', 32);
    await host.wire(chip, 20, 21);
    const clock = new SystemClock();
    // The kernel clock reads 1 s later than the clock gpiomon stamped with: each event looks 1 s old.
    const hrtimeMs = () => Number(process.hrtime.bigint()) / 1e6;
    const gpio = new ChardevGpio({
      clock,
      toolDir: host.toolDir,
      kernelMonotonicMs: () => hrtimeMs() + 1000,
    });
    backends.push(gpio);
    const out = await gpio.openOutput(OUT, { initial: 0 });
    const inp = await gpio.openInput(IN, { edge: 'both' });
    const events: GpioEdgeEvent[] = [];
    inp.watch((e) => events.push(e));
    const before = clock.monotonicMs();
    await out.write(1);
    await until(() => events.length === 1, 'the rising edge');
    expect(events[0]?.value).toBe(1);
    expect(events[0]?.monoMs).toBeGreaterThan(before - 1000);
    expect(events[0]?.monoMs).toBeLessThan(clock.monotonicMs() - 900);
  });
});

describe('ChardevGpio failures', () => {
  it('refuses v1 tools with ENOGPIO naming the package and the version found: the device is absent', async () => {
    const { host, gpio } = await setup();
    await host.setVersion('v1.6.3');
    const error = await gpio.openOutput(OUT, { initial: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOGPIO' });
    expect((error as Error).message).toMatch(/libgpiod v2 tools \(found \w+ v1\.6\.3\)/);
    expect((error as Error).message).toContain('package `gpiod` >= 2.0');
    expect(openError(error)).toBeInstanceOf(DeviceAbsentError);
    expect(childPids(), 'the error waits for every --version run it started').toEqual([]);
    // Installing the package mends it: the failed check is not remembered.
    await host.setVersion('v2.2.1');
    await expect(gpio.openOutput(OUT, { initial: 0 })).resolves.toMatchObject({ isOpen: true });
  });

  it('refuses missing tools with ENOGPIO naming the package', async () => {
    const gpio = new ChardevGpio({ clock: new SystemClock(), toolDir: await tempDir() });
    const error = await gpio.listChips().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOGPIO' });
    expect((error as Error).message).toMatch(/gpio\w+ not found; install the libgpiod v2 tools/);
  });

  it('reports a line held by another process as EBUSY, with the tool message', async () => {
    const { host, gpio, chip } = await setup();
    const other = spawn(path.join(host.toolDir, 'gpioset'), ['--banner', '-c', chip, '20=1'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      await new Promise((resolve) => other.stdout.once('data', resolve));
      const error = await gpio.openOutput(OUT, { initial: 0 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'EBUSY', line: OUT });
      expect((error as Error).message).toContain(
        "unable to request lines on chip '/dev/gpiochip0': Device or resource busy",
      );
      await expect(gpio.openInput(OUT, { edge: 'both' })).rejects.toMatchObject({ code: 'EBUSY' });
    } finally {
      other.kill();
      await new Promise((resolve) => other.once('exit', resolve));
    }
    await expect(gpio.openOutput(OUT, { initial: 0 })).resolves.toMatchObject({ isOpen: true });
  });

  it('turns a gpioset that dies into EIO on reads, until a write holds the line again', async () => {
    const { host, gpio, chip } = await setup();
    const out = await gpio.openOutput(OUT, { initial: 1 });
    process.kill(host.holder(chip, 20) as number, 'SIGKILL');
    await until(() => childPids().length === 0, 'gpioset to exit');
    await expect(out.read()).rejects.toMatchObject({ code: 'EIO', line: OUT });
    await out.write(1);
    await expect(out.read()).resolves.toBe(1);
    expect(host.holder(chip, 20)).toBeGreaterThan(0);
  });

  it('turns a gpiomon that dies into EIO for the watchers and the reads, leaving no zombie', async () => {
    const { host, gpio, chip } = await setup();
    const inp = await gpio.openInput(IN, { edge: 'both' });
    const errors: Error[] = [];
    inp.watch(
      () => undefined,
      (e) => errors.push(e),
    );
    process.kill(host.holder(chip, 21) as number, 'SIGKILL');
    await until(() => errors.length === 1, 'the EIO of the dead gpiomon');
    expect(errors[0]).toMatchObject({ code: 'EIO', line: IN });
    await expect(inp.read()).rejects.toMatchObject({ code: 'EIO' });
    expect(childPids()).toEqual([]);
  });

  it('resolves labels through gpiodetect, naming the chips there are', async () => {
    const { host, gpio } = await setup();
    await host.addChip('pinctrl-rp1', 54);
    await expect(gpio.listChips()).resolves.toEqual([
      { name: 'gpiochip0', label: 'sim-gpio', base: -1, ngpio: 32 },
      { name: 'gpiochip1', label: 'pinctrl-rp1', base: -1, ngpio: 54 },
    ]);
    await expect(gpio.openOutput({ chip: 'pinctrl-rp1', offset: 54 }, { initial: 0 })).rejects.toMatchObject({
      code: 'EOFFSET_RANGE',
    });
    await expect(
      gpio.openOutput({ chip: 'pinctrl-bcm2711', offset: 1 }, { initial: 0 }),
    ).rejects.toMatchObject({
      code: 'EUNKNOWN_CHIP',
      chips: ['sim-gpio', 'pinctrl-rp1'],
    });
  });
});

describe('the fake tools', () => {
  it('print what the real libgpiod tools printed (test/fixtures/gpiod)', async () => {
    const host = await fakeGpiodHost(await tempDir());
    const run = (tool: string, args: string[]) =>
      new Promise<{ out: string; err: string; code: number | null }>((resolve) => {
        const child = spawn(path.join(host.toolDir, tool), args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        child.on('close', (code) => resolve({ out, err, code }));
      });
    for (const tool of ['gpiodetect', 'gpioget', 'gpioset', 'gpiomon']) {
      expect((await run(tool, ['--version'])).out).toBe(fixture(`${tool}-version.txt`));
    }
    for (const [tool, args] of [
      ['gpioset', ['-c', 'gpiochip0', '3=1']],
      ['gpioget', ['-c', 'gpiochip0', '3']],
      ['gpiomon', ['-c', 'gpiochip0', '3']],
    ] as const) {
      const { err, code } = await run(tool, [...args]);
      const prog = path.join(host.toolDir, tool);
      expect(`${err.replace(prog, tool)}exit ${code}\n`).toBe(fixture(`${tool}-no-chip.txt`));
    }
    await host.setVersion('v1.6.3');
    expect((await run('gpioset', ['--version'])).out.split('\n')[0]).toBe(
      fixture('gpioset-v1.6.3-version.txt').split('\n')[0],
    );
  });
});
