/**
 * The agent itself (buildAgent on the simulated board, real clock) updating through the technician's
 * command: `ota.install` of a local file accepts and writes the update, the agent asks the emulator to
 * reboot, the emulated bootloader boots slot B on trial, and the new agent commits once its health
 * checks pass (the loops run and `chamber.temp` is good) — all visible through `ota.status`.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, buildAgent } from '../../../agent/build-agent.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { publicKeyToPem } from '../../../agent/core/ed25519-keys.js';
import { silentLogger } from '../../../agent/core/log.js';
import { digestFile } from '../../../agent/ota/digest-file.js';
import { signManifest } from '../../../agent/ota/manifest.js';
import { DeviceEmulator } from '../../../scripts/ota-emulator/device-emulator.js';
import {
  FACTORY_BOOT_VARS,
  fakeImage,
  writeRedundantUbootEnv,
} from '../../../scripts/ota-emulator/provision.js';
import { simAgentConfigBase } from '../../support/agent-process.js';
import { loadRepoConfig } from '../../support/load-repo-config.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-agent-');
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

const as = { via: 'test' as const, who: 'tech' };

async function waitFor(test: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the agent on the simulated board', () => {
  it('installs from a local file by command, reboots on trial, checks its health and commits', async () => {
    const dir = await newDir();
    const keys = generateKeyPair();
    await mkdir(path.join(dir, 'slots'));
    await writeFile(path.join(dir, 'slots/a.img'), fakeImage('factory', 1 << 20));
    await writeFile(path.join(dir, 'fleet.pub.pem'), publicKeyToPem(keys.publicKey));
    await writeRedundantUbootEnv(
      path.join(dir, 'boot/uboot.env'),
      path.join(dir, 'boot/fw_env.config'),
      FACTORY_BOOT_VARS,
    );
    const emulator = new DeviceEmulator({
      dir: path.join(dir, 'emu'),
      components: [
        {
          name: 'rootfs',
          boot: { kind: 'uboot', fwEnvConfig: path.join(dir, 'boot/fw_env.config') },
          cmdlineParam: 'rauc.slot',
          slots: {
            A: { kind: 'image', path: path.join(dir, 'slots/a.img') },
            B: { kind: 'image', path: path.join(dir, 'slots/b.img') },
          },
        },
      ],
    });
    const configFile = path.join(dir, 'agent.yaml');
    await writeFile(
      configFile,
      JSON.stringify({
        ...simAgentConfigBase(),
        ota: {
          trust: { keys: ['fleet.pub.pem'] },
          rebootCommand: emulator.rebootCommand(),
          bootInfo: { cmdline: 'emu/cmdline', bootId: 'emu/boot_id' },
          health: { deadlineMs: 15_000, pollMs: 100, points: ['chamber.temp'] },
          components: {
            rootfs: {
              slots: { kind: 'image', A: 'slots/a.img', B: 'slots/b.img' },
              boot: { backend: 'uboot', fwEnvConfig: 'boot/fw_env.config', tool: 'native' },
            },
          },
        },
      }),
    );
    const boot = async () => {
      const loaded = await loadRepoConfig(configFile);
      agent = await buildAgent(loaded, { clock: new SystemClock(), log: silentLogger() });
      await agent.start();
      return agent;
    };

    expect((await emulator.powerOn()).slots.rootfs).toBe('A');
    let a = await boot();
    // The default ota.localInstallDirs: the inbox under the state directory, made at start.
    const payload = path.join(dir, 'state/ota/inbox/update.img');
    const image = fakeImage('2.0.0', 1 << 20);
    await writeFile(payload, image);
    const digest = await digestFile(payload, 1 << 16);
    const manifest = signManifest(
      {
        v: 1,
        component: 'rootfs',
        version: '2.0.0',
        seq: 1,
        hw: ['sim'],
        size: digest.sizeBytes,
        sha256: digest.sha256,
        format: 'raw',
        chunk: 1 << 16,
        chunks: digest.chunks!,
      },
      [keys],
    );
    await writeFile(`${payload}.cose`, manifest);

    const accepted = await a.commands.execute('ota.install', { file: payload }, as);
    expect(accepted).toMatchObject({
      ok: true,
      result: { accepted: true, version: '2.0.0', targetSlot: 'B' },
    });
    const rebootRequest = path.join(dir, 'emu/reboot-request');
    await waitFor(
      () =>
        access(rebootRequest).then(
          () => true,
          () => false,
        ),
      10_000,
      'the reboot request',
    );
    // The reboot command runs before the manager records that a reboot is pending: wait for both.
    let armed = await a.commands.execute('ota.status', {}, as);
    await waitFor(
      async () => {
        armed = await a.commands.execute('ota.status', {}, as);
        return (armed as { result?: { rebootPending?: boolean } }).result?.rebootPending === true;
      },
      10_000,
      'the reboot to be pending',
    );
    expect(armed).toMatchObject({
      ok: true,
      result: { rebootPending: true, install: { phase: 'armed', percent: 100 } },
    });
    await a.stop();
    agent = undefined;

    expect((await emulator.powerOn()).slots.rootfs).toBe('B');
    a = await boot();
    await waitFor(async () => (await a.ota!.status()).install === undefined, 20_000, 'the commit');
    const status = await a.commands.execute('ota.status', {}, as);
    expect(status).toMatchObject({
      ok: true,
      result: {
        install: undefined,
        components: [
          {
            name: 'rootfs',
            booted: 'B',
            primary: 'B',
            slots: { A: { state: 'good' }, B: { state: 'good' } },
            committed: { seq: 1, version: '2.0.0' },
          },
        ],
      },
    });
    const reports = await a.ota!.reports.pending();
    expect(reports.map((r) => r.state)).toEqual(['installed', 'committed']);
    for (const r of reports) await a.ota!.reports.ack(r.id);
    expect(await a.ota!.reports.pending()).toEqual([]);
  }, 40_000);
});
