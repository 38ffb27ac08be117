/**
 * Live components (`kind: model | rules`): the OTA flow writes and verifies the bundle like any
 * other, then hands the slot to the component's consumer instead of rebooting — committed when the
 * consumer proves it, rolled back (the running slot kept, the target marked bad) with the consumer's
 * reason when it does not, and given up after a switch that kept killing the agent.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create as createTar } from 'tar';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../agent/core/clock.js';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { publicKeyToPem } from '../../../agent/core/ed25519-keys.js';
import { silentLogger } from '../../../agent/core/log.js';
import { createOta } from '../../../agent/ota/create-ota.js';
import { digestFile } from '../../../agent/ota/digest-file.js';
import type { LiveActivation, LiveConsumer, LiveSwitchOptions } from '../../../agent/ota/live-component.js';
import { signManifest } from '../../../agent/ota/manifest.js';
import type { OtaManager } from '../../../agent/ota/ota-manager.js';
import { otaSchema } from '../../../agent/ota/ota-schema.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-live-');

/** Records what it was asked to run and answers as told. */
class RecordingConsumer implements LiveConsumer {
  readonly calls: { dir: string; content: string; options: LiveSwitchOptions }[] = [];
  constructor(
    private readonly answer: (
      content: string,
      options: LiveSwitchOptions,
    ) => LiveActivation | Promise<LiveActivation>,
  ) {}

  async activate(dir: string, options: LiveSwitchOptions): Promise<LiveActivation> {
    const content = await readFile(path.join(dir, 'model.onnx'), 'utf8');
    this.calls.push({ dir, content, options });
    return this.answer(content, options);
  }
}

async function liveDevice() {
  const dir = await newDir();
  const keys = generateKeyPair();
  await writeFile(path.join(dir, 'fleet.pub'), publicKeyToPem(keys.publicKey));
  await mkdir(path.join(dir, 'models/a'), { recursive: true });
  await writeFile(path.join(dir, 'models/a/model.onnx'), 'factory model');
  const config = otaSchema.parse({
    trust: { keys: ['fleet.pub'] },
    components: {
      'chamber-model': {
        kind: 'model',
        slots: { kind: 'dir', A: 'models/a', B: 'models/b' },
        live: { goodOutputs: 5, deadlineMs: 30_000 },
      },
    },
  });
  const manager = (): OtaManager =>
    createOta(config, {
      clock: new SystemClock(),
      log: silentLogger(),
      stateDir: path.join(dir, 'state'),
      baseDir: dir,
      board: 'sim',
      run: async () => ({ code: 1, stdout: '', stderr: 'no reboot for live components' }),
    });
  let seq = 0;
  const release = async (content: string) => {
    seq += 1;
    const src = path.join(dir, `bundle-${seq}`);
    await mkdir(src, { recursive: true });
    await writeFile(path.join(src, 'model.onnx'), content);
    const file = path.join(dir, `bundle-${seq}.tar`);
    await createTar({ file, cwd: src, portable: true }, ['model.onnx']);
    const digest = await digestFile(file);
    const manifest = signManifest(
      {
        v: 1,
        component: 'chamber-model',
        version: `1.${seq}.0`,
        seq,
        hw: ['sim'],
        size: digest.sizeBytes,
        sha256: digest.sha256,
        format: 'tar',
      },
      [keys],
    );
    return { file, manifest };
  };
  return { dir, manager, release };
}

async function install(ota: OtaManager, rel: { file: string; manifest: Uint8Array }) {
  const accepted = await ota.install({ file: rel.file, manifest: rel.manifest });
  expect(accepted).toMatchObject({ ok: true });
  await ota.idle();
  return (await ota.reports.pending()).at(-1);
}

describe('a model component is switched live', () => {
  it('runs from slot A until an update is proven, then from B — without a reboot', async () => {
    const device = await liveDevice();
    const ota = device.manager();
    const consumer = new RecordingConsumer(() => ({ ok: true }));
    ota.bindLive('chamber-model', consumer);
    await ota.start();
    await ota.idle();
    expect(await ota.liveSlotDir('chamber-model')).toBe(path.join(device.dir, 'models/a'));

    const report = await install(ota, await device.release('model v1'));
    expect(report).toMatchObject({ state: 'committed', component: 'chamber-model', version: '1.1.0' });
    expect(consumer.calls).toEqual([
      {
        dir: path.join(device.dir, 'models/b'),
        content: 'model v1',
        options: expect.objectContaining({ goodOutputs: 5, deadlineMs: 30_000 }),
      },
    ]);
    expect(await ota.liveSlotDir('chamber-model')).toBe(path.join(device.dir, 'models/b'));
    expect((await ota.status()).rebootPending).toBe(false);

    // A restart loads what was proven last; the next update goes to the other slot, A.
    const restarted = device.manager();
    restarted.bindLive('chamber-model', consumer);
    await restarted.start();
    await restarted.idle();
    expect(await restarted.liveSlotDir('chamber-model')).toBe(path.join(device.dir, 'models/b'));
    expect(await install(restarted, await device.release('model v2'))).toMatchObject({ state: 'committed' });
    expect(consumer.calls.at(-1)?.dir).toBe(path.join(device.dir, 'models/a'));
  });

  it('keeps the running slot and reports the consumer’s reason when the new one fails its proof', async () => {
    const device = await liveDevice();
    const ota = device.manager();
    ota.bindLive(
      'chamber-model',
      new RecordingConsumer(() => ({ ok: false, reason: 'bad-output', message: 'anomaly_score is NaN' })),
    );
    await ota.start();
    const report = await install(ota, await device.release('a model that returns NaN'));
    expect(report).toMatchObject({
      state: 'rolled-back',
      reason: 'bad-output',
      message: 'anomaly_score is NaN',
    });
    expect(await ota.liveSlotDir('chamber-model')).toBe(path.join(device.dir, 'models/a'));
    expect((await ota.status()).components[0]).toMatchObject({ name: 'chamber-model' });
  });

  it('rolls back with no-consumer when nothing in the agent runs the component', async () => {
    const device = await liveDevice();
    const ota = device.manager();
    await ota.start();
    const report = await install(ota, await device.release('model v1'));
    expect(report).toMatchObject({ state: 'rolled-back', reason: 'no-consumer' });
    expect(report?.message).toMatch(/no inference model names it/);
  });

  it('gives a switch up after it was started twice without concluding (it crashed the agent)', async () => {
    const device = await liveDevice();
    // Each "crash": the manager is stopped while its consumer is still switching.
    for (let run = 0; run < 2; run++) {
      const ota = device.manager();
      let entered!: () => void;
      const switching = new Promise<void>((resolve) => {
        entered = resolve;
      });
      ota.bindLive(
        'chamber-model',
        // Hangs until the agent stops (as the contract asks, it gives up on the abort signal).
        new RecordingConsumer((_content, options) => {
          entered();
          return new Promise<LiveActivation>((resolve) =>
            options.signal?.addEventListener('abort', () =>
              resolve({ ok: false, reason: 'timeout', message: 'the agent is stopping' }),
            ),
          );
        }),
      );
      await ota.start();
      if (run === 0) await ota.install({ ...(await device.release('a model that hangs the agent')) });
      await switching;
      await ota.stop();
    }
    const ota = device.manager();
    const consumer = new RecordingConsumer(() => ({ ok: true }));
    ota.bindLive('chamber-model', consumer);
    await ota.start();
    await ota.idle();
    expect(consumer.calls).toEqual([]);
    expect((await ota.reports.pending()).at(-1)).toMatchObject({
      state: 'rolled-back',
      reason: 'switch-crashed',
    });
    expect(await ota.liveSlotDir('chamber-model')).toBe(path.join(device.dir, 'models/a'));
  });

  it('refuses a model component with a boot backend or image slots, naming the field; a system one may omit boot', () => {
    const parse = (component: unknown) =>
      otaSchema.safeParse({ trust: { keys: ['k.pub'] }, components: { m: component } });
    const booted = parse({
      kind: 'model',
      slots: { kind: 'dir', A: 'a', B: 'b' },
      boot: { backend: 'file', file: 'boot.env' },
    });
    expect(booted.success).toBe(false);
    expect(booted.error?.issues[0]).toMatchObject({ path: ['components', 'm', 'boot'] });
    const image = parse({ kind: 'rules', slots: { kind: 'image', A: 'a', B: 'b' } });
    expect(image.error?.issues[0]?.message).toMatch(/directory slots/);
    // A system component may omit boot: loadConfig takes the board profile's backend.
    expect(parse({ slots: { kind: 'image', A: 'a', B: 'b' } }).success).toBe(true);
  });
});
