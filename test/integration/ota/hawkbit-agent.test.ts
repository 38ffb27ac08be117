/**
 * The whole agent process with `ota.hawkbit`, under the device emulator (its reboots are power-ons
 * through the emulated U-Boot), against the DDI server: assigned in hawkBit, the agent downloads,
 * reboots into the trial, commits, and hawkBit sees the action closed with success — the path a
 * device in the field takes, with the configuration a user writes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { type DdiServer, startDdiServer } from '../../support/ddi-server.js';
import { SimOtaDevice, sha256Hex } from '../../support/sim-ota-device.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-hawkbit-agent-');
let ddi: DdiServer | undefined;
afterEach(async () => {
  await ddi?.close();
});

it('installs a hawkBit deployment end to end: download, trial boot, commit, closed/success', async () => {
  ddi = await startDdiServer({ pollingSleep: '00:00:00' });
  ddi.addTarget('gw-e2e', { targetToken: 'e2e-token' });
  const device = await SimOtaDevice.create(await tempDir(), {
    imageBytes: 1024 * 1024,
    config: {
      board: path.join(REPO_ROOT, 'boards/sim.yaml'),
      deviceId: 'gw-e2e',
      console: { socket: { enabled: false } },
    },
    ota: { hawkbit: { url: ddi.url, controllerId: 'gw-e2e', pollMinS: 0.2 } },
  });
  const release = await device.release(fakeImage('hawkbit 1.1.0', 1024 * 1024), { version: '1.1.0', seq: 2 });
  const id = ddi.assign('gw-e2e', {
    chunks: [
      {
        name: 'rootfs',
        version: '1.1.0',
        part: 'os',
        artifacts: [
          { filename: 'rootfs.img', data: release.payload },
          { filename: 'rootfs.img.cose', data: release.manifest },
        ],
      },
    ],
  });
  const agent = [
    process.execPath,
    path.join(REPO_ROOT, 'dist/agent/main.js'),
    'run',
    '--config',
    device.configFile,
  ];
  const env = { EDGE_AGENT_OTA_HAWKBIT_AUTH_TARGET_TOKEN: 'e2e-token', EDGE_AGENT_LOG_FORMAT: 'json' };

  await device.emulator.powerOn();
  const first = await device.emulator.run({ argv: agent, env, onLine: (l) => device.lines.push(l) });
  expect(first, device.lines.slice(-20).join('\n')).toMatchObject({ kind: 'reboot' });
  expect(ddi.targets.get('gw-e2e')!.attributes).toMatchObject({ deviceId: 'gw-e2e', board: 'sim' });

  expect((await device.emulator.powerOn()).slots.rootfs).toBe('B');
  const second = device.emulator.run({ argv: agent, env, onLine: (l) => device.lines.push(l) });
  await until(
    () => ddi!.action(id).state === 'closed',
    'the action closed',
    30_000,
    () => device.lines.slice(-10),
  );
  device.emulator.stop('SIGTERM');
  await second;
  const details = () =>
    `${JSON.stringify(ddi!.action(id).feedback.map((f) => f.body.status))}\n${device.lines.slice(-30).join('\n')}`;
  expect(ddi.action(id).result, details()).toBe('success');
  const executions = ddi.action(id).feedback.map((f) => f.body.status.execution);
  expect(executions[0]).toBe('download');
  expect(executions.at(-1)).toBe('closed');
  expect(executions).toContain('proceeding');
  expect(await device.slotDigest('B', 1024 * 1024)).toBe(sha256Hex(await readFile(release.payload)));
  expect(device.printenv().get('BOOT_ORDER')).toMatch(/^B/);
}, 60_000);
