/**
 * The `jetson` boot backend through the BootBackend interface, driving the scripted nvbootctrl
 * (test/support/fake-nvbootctrl.mjs, a child process per call) over firmware state that the emulator's
 * Jetson firmware (scripts/ota-emulator/jetson-firmware.ts) boots from: a trial that commits, one that
 * runs out of retries and falls back, a slot the firmware keeps unbootable, a failing confirm, and
 * output nobody can read.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JetsonBackend, type JetsonOptions } from '../../../agent/ota/boot/jetson.js';
import { InstallError } from '../../../agent/ota/install-errors.js';
import { type RunCommand, runCommand } from '../../../agent/ota/run-command.js';
import {
  type JetsonNvram,
  jetsonFactoryNvram,
  jetsonFirmwareBoot,
  readJetsonNvram,
  writeJetsonNvram,
} from '../../../scripts/ota-emulator/jetson-firmware.js';
import { rejection } from '../../support/rejection.js';
import { FAKE_NVBOOTCTRL } from '../../support/sim-ota-device.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-jetson-');

async function jetson(
  change: (n: JetsonNvram) => void = () => undefined,
  options: Partial<JetsonOptions> = {},
) {
  const dir = await newDir();
  const nvram = path.join(dir, 'nvbootctrl.json');
  const initial = jetsonFactoryNvram();
  change(initial);
  await writeJetsonNvram(nvram, initial);
  const run: RunCommand = (argv, o) =>
    runCommand(argv, { ...o, env: { ...process.env, FAKE_NVBOOTCTRL_STATE: nvram } });
  const backend = new JetsonBackend(
    {
      nvbootctrl: FAKE_NVBOOTCTRL,
      retryCountMax: 3,
      confirm: 'verify',
      stateFile: path.join(dir, 'state/jetson-marked-bad.json'),
      ...options,
    },
    run,
  );
  return {
    backend,
    run,
    /** A power-on: the firmware picks and boots a slot. */
    boot: async () => {
      const choice = await jetsonFirmwareBoot(nvram);
      if ('failed' in choice) throw new Error(choice.failed);
      return choice.slot;
    },
    nvram: () => readJetsonNvram(nvram),
  };
}

describe('the jetson boot backend', () => {
  it('reads the running and the active slot from nvbootctrl', async () => {
    const { backend, boot } = await jetson();
    await boot();
    expect(await backend.getCurrent()).toBe('A');
    expect(await backend.getPrimary()).toBe('A');
    expect(await backend.getState('B')).toBe('good');
    expect(await backend.inspect()).toEqual({
      current: 'A',
      active: 'A',
      'A.status': 'normal',
      'A.retry_count': '2',
      'B.status': 'normal',
      'B.retry_count': '3',
    });
    expect(await backend.rebootArgs()).toEqual([]);
  });

  it('runs a trial: marked bad while written, made active, booted, then confirmed with a full count', async () => {
    const { backend, boot, nvram } = await jetson();
    await boot();
    await backend.setState('A', 'good'); // the agent confirms what it runs at every start
    expect((await nvram()).slots[0].retryCount).toBe(3);

    await backend.setState('B', 'bad');
    expect(await backend.getState('B')).toBe('bad');
    expect(await backend.getPrimary()).toBe('A');
    await backend.setPrimary('B');
    expect(await backend.getState('B')).toBe('good');
    expect(await backend.getPrimary()).toBe('B');

    expect(await boot()).toBe('B');
    expect(await backend.getCurrent()).toBe('B');
    expect((await nvram()).slots[1].retryCount).toBe(2);
    await backend.setState('B', 'good');
    expect((await nvram()).slots[1]).toEqual({ retryCount: 3, status: 'normal' });
    expect(await backend.getPrimary()).toBe('B');
  });

  it('lets the firmware fall back when a trial is never confirmed, and reports the slot bad', async () => {
    const { backend, boot } = await jetson();
    await boot();
    await backend.setPrimary('B');
    // Three boots of B that never come up far enough to confirm (RootfsRetryCountMax = 3).
    for (let i = 0; i < 3; i++) expect(await boot()).toBe('B');
    expect(await boot()).toBe('A');
    expect(await backend.getCurrent()).toBe('A');
    expect(await backend.getState('B')).toBe('bad');
    expect(await backend.getPrimary()).toBe('A');
    expect(await backend.inspect()).toMatchObject({
      active: 'A',
      'B.status': 'unbootable',
      'B.retry_count': '0',
    });
    // The installer's fall-back: B bad, A primary.
    await backend.setState('B', 'bad');
    await backend.setPrimary('A');
    expect(await backend.getPrimary()).toBe('A');
  });

  it('moves the active slot away when it is marked bad, and refuses when the other cannot boot', async () => {
    const { backend, boot } = await jetson();
    await boot();
    await backend.setPrimary('B');
    await backend.setState('B', 'bad'); // an armed trial cancelled before its reboot
    expect(await backend.getPrimary()).toBe('A');
    expect(await boot()).toBe('A');

    const other = await jetson((n) => {
      n.slots[1] = { retryCount: 0, status: 'unbootable' };
    });
    await other.boot();
    const e = await rejection(other.backend.setState('A', 'bad'));
    expect(e).toBeInstanceOf(InstallError);
    expect(e).toMatchObject({ code: 'EBOOT_ENV', message: expect.stringContaining('not bootable either') });
  });

  it('reports a firmware that keeps a slot unbootable through set-active-boot-slot as a failed read-back', async () => {
    const { backend, boot } = await jetson((n) => {
      n.slots[1] = { retryCount: 0, status: 'unbootable' };
      n.stickyUnbootable = true;
    });
    await boot();
    const e = await rejection(backend.setPrimary('B'));
    expect(e).toMatchObject({ code: 'EBOOT_READBACK', message: expect.stringContaining('B unbootable') });
  });

  it('names the tool, the command and its stderr when mark-boot-successful fails', async () => {
    const { backend, boot } = await jetson(
      (n) => {
        n.failConfirm = 'Error: cannot update RootfsRetryCount';
      },
      { confirm: 'mark-boot-successful' },
    );
    await boot();
    const e = await rejection(backend.setState('A', 'good'));
    expect(e).toBeInstanceOf(InstallError);
    expect((e as InstallError).code).toBe('EBOOT_ENV');
    expect((e as InstallError).message).toBe(
      `${FAKE_NVBOOTCTRL} -t rootfs mark-boot-successful exited with 1: Error: cannot update RootfsRetryCount`,
    );
  });

  it('fails a confirm that does not restore the retry count this board was flashed with', async () => {
    const { backend, boot } = await jetson((n) => {
      n.retryCountMax = 2;
      n.slots = [
        { retryCount: 2, status: 'normal' },
        { retryCount: 2, status: 'normal' },
      ];
    });
    await boot();
    const e = await rejection(backend.setState('A', 'good'));
    expect(e).toMatchObject({ code: 'EBOOT_READBACK', message: expect.stringContaining('retryCountMax') });
  });

  it('turns output it cannot read, and a tool that is missing, into EBOOT_ENV naming the command', async () => {
    const garbled: RunCommand = async () => ({ code: 0, stdout: 'Usage: nvbootctrl\n', stderr: '' });
    const backend = new JetsonBackend(
      { nvbootctrl: 'nvbootctrl', retryCountMax: 3, confirm: 'verify', stateFile: '/nonexistent/x.json' },
      garbled,
    );
    const e = await rejection(backend.getPrimary());
    expect(e).toMatchObject({ code: 'EBOOT_ENV' });
    expect((e as Error).message).toContain('nvbootctrl -t rootfs dump-slots-info: no "Current rootfs slot"');
    expect((e as Error).message).toContain('Usage: nvbootctrl');
    expect(await rejection(backend.getCurrent())).toMatchObject({ code: 'EBOOT_ENV' });

    const missing = new JetsonBackend({
      nvbootctrl: '/nonexistent/nvbootctrl',
      retryCountMax: 3,
      confirm: 'verify',
      stateFile: '/nonexistent/x.json',
    });
    expect(await rejection(missing.getCurrent())).toMatchObject({
      code: 'EBOOT_ENV',
      message: expect.stringContaining('cannot run /nonexistent/nvbootctrl -t rootfs get-current-slot'),
    });
  });
});
