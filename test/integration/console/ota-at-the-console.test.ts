/**
 * An update from a local file, as a technician runs it on the console socket against a real
 * OtaManager (image-file slots, the file boot backend, the device emulator): the confirmation says
 * what will happen, the console stays attached while the slot is written, and the reboot is asked
 * for — answered No, the install waits armed until `ota reboot`.
 */
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { registerOtaCommands } from '../../../agent/commands/ota-commands.js';
import { CommandRegistry } from '../../../agent/commands/registry.js';
import { registerStatusCommand } from '../../../agent/commands/status-command.js';
import { encodeHello } from '../../../agent/console/socket-hello.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { TEST_PASSWORD } from '../../support/console-harness.js';
import { OtaTestDevice } from '../../support/ota-test-device.js';
import { startSocketConsole } from '../../support/real-time-console.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-ota-console-');
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function rig() {
  const dir = await tempDir();
  const device = await OtaTestDevice.create(path.join(dir, 'device'), { imageBytes: 2 << 20 });
  const ota = device.manager();
  await ota.start();
  await ota.idle();
  const commands = new CommandRegistry();
  registerOtaCommands(commands, { ota });
  registerStatusCommand(commands, { clock: new SystemClock(), version: '9.9.9', devices: [], ota });
  const rig = await startSocketConsole(dir, { commands, banner: 'edge-agent 9.9.9 on ota-rig' });
  stops.push(async () => {
    await rig.stop();
    await ota.stop();
  });
  const release = await device.release(
    fakeImage('1.2.0', 2 << 20),
    { seq: 2 },
    { name: 'state/inbox/u.img' },
  );
  await writeFile(`${release.file}.cose`, release.manifest);
  return { device, ota, socketPath: rig.socket.path, image: release.file };
}

/** A logged-in plain-text session; `answer` waits for `expected` after what was typed. */
async function technician(socketPath: string) {
  const client: Socket = connect(socketPath);
  let screen = '';
  client.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
  });
  const waitFor = (text: string, from: number) =>
    until(
      () => screen.slice(from).includes(text),
      text,
      10_000,
      () => screen.slice(from),
    );
  client.write(encodeHello({ tty: false, columns: 80 }));
  await waitFor('login: ', 0);
  client.write(`tech\r${TEST_PASSWORD}\r`);
  await waitFor('tech@edge> ', 0);
  return {
    screen: () => screen,
    answer: async (line: string, expected: string) => {
      const from = screen.length;
      client.write(`${line}\r`);
      await waitFor(expected, from);
      return screen.slice(from);
    },
  };
}

describe('an update at the console', () => {
  it('says what it will install, stays attached while writing, and asks before the reboot', async () => {
    const { device, ota, socketPath, image } = await rig();
    const t = await technician(socketPath);

    const asked = await t.answer(`ota install ${image}`, 'Proceed? [y/N] ');
    expect(asked).toContain('  rootfs 1.2.0, 2.0 MiB, into slot B (running: A)');
    expect(asked).toContain(
      '  once written, the gateway reboots into slot B for a trial (asked first unless --yes)',
    );

    const written = await t.answer('y', 'Reboot now into slot B for the trial? [y/N] ');
    // A dumb peer gets a progress line per tenth; the slot is fully written before the question.
    expect(written).toMatch(/100%\s+written/);
    expect((await ota.status()).install).toMatchObject({ phase: 'armed', target: 'B', holdReboot: true });
    expect(device.rebootRequests).toEqual([]);

    expect(await t.answer('n', 'tech@edge> ')).toContain('Not now. Run `ota reboot` when ready.');
    expect(device.rebootRequests).toEqual([]);
    expect(await t.answer('ota status --json', 'tech@edge> ')).toContain('"waitingForReboot":true');
    // Like `rauc status`: a line per slot, `*` where it booted, then the last and the current install.
    const status = (await t.answer('ota status', 'tech@edge> ')).split('\r\n');
    expect(status.slice(1, 5)).toEqual([
      'rootfs  A *  good         booted',
      '        B    good  1.2.0  primary, installed',
      expect.stringMatching(/^last install: rootfs 1\.2\.0 installed \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/),
      'install: rootfs 1.2.0 into slot B: armed, waiting for `ota reboot`',
    ]);
    expect(await t.answer('ota status --verbose', 'tech@edge> ')).toContain('path');

    const again = await t.answer('ota reboot', 'Proceed? [y/N] ');
    expect(again).toContain('  the gateway reboots into slot B for the trial of rootfs 1.2.0');
    await t.answer('y', 'tech@edge> ');
    await until(() => device.rebootRequests.length === 1, 'the trial reboot');

    // The next technician to log in is told how the last update went.
    const next = await technician(socketPath);
    expect(next.screen()).toMatch(/Last update: rootfs 1\.2\.0 installed \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
  });

  it('with --yes --no-reboot installs without a question and stays armed until `ota reboot`', async () => {
    const { device, ota, socketPath, image } = await rig();
    const t = await technician(socketPath);
    expect(await t.answer(`ota install ${image} --yes --no-reboot`, 'tech@edge> ')).toContain(
      'Not now. Run `ota reboot` when ready.',
    );
    expect((await ota.status()).install).toMatchObject({ phase: 'armed', holdReboot: true });
    expect(device.rebootRequests).toEqual([]);
    await t.answer('ota reboot --yes', 'tech@edge> ');
    await until(() => device.rebootRequests.length === 1, 'the trial reboot');
  });
});
