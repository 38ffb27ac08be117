/**
 * `ota.install` reads local files only inside `ota.localInstallDirs` (default: the OTA inbox), after
 * resolving symbolic links; for anything outside it answers the same whether the file exists or not,
 * so it cannot be used to probe the device's files or learn their length.
 */
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerOtaCommands } from '../../../agent/commands/ota-commands.js';
import { CommandRegistry } from '../../../agent/commands/registry.js';
import { fakeImage } from '../../../scripts/ota-emulator/provision.js';
import { OtaTestDevice } from '../../support/ota-test-device.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-commands-');
const as = { via: 'test' as const, who: 'tech' };

async function setup() {
  const device = await OtaTestDevice.create(await newDir());
  const ota = device.manager();
  await ota.start();
  await ota.idle();
  const commands = new CommandRegistry();
  registerOtaCommands(commands, { ota });
  const inbox = path.join(device.dir, 'state/inbox');
  return { device, ota, commands, inbox };
}

describe('ota.install confined to the local install directories', () => {
  it('answers alike for an existing and a missing file outside, revealing no length', async () => {
    const { device, commands, ota } = await setup();
    const secret = path.join(device.dir, 'secret.key');
    await writeFile(secret, Buffer.alloc(12_345, 1));
    const existing = await commands.execute('ota.install', { file: 'x.img', manifest: secret }, as);
    const missing = await commands.execute(
      'ota.install',
      { file: 'x.img', manifest: path.join(device.dir, 'nothing.key') },
      as,
    );
    expect(existing).toMatchObject({ ok: false, code: 'ENOT_ALLOWED' });
    expect(missing).toMatchObject({ ok: false, code: 'ENOT_ALLOWED' });
    const text = (r: typeof existing, p: string) => (r.ok ? '' : r.message.replace(p, '<path>'));
    expect(text(existing, secret)).toBe(text(missing, path.join(device.dir, 'nothing.key')));
    expect(JSON.stringify(existing)).not.toMatch(/12345|12 345|bytes/);
    expect((await ota.status()).install).toBeUndefined();
  });

  it('refuses a symbolic link in the inbox that points outside, and ../ out of it', async () => {
    const { device, commands, inbox } = await setup();
    const rel = await device.release(fakeImage('2.0.0', 256 * 1024), { seq: 2 });
    await writeFile(`${rel.file}.cose`, rel.manifest);
    await symlink(`${rel.file}.cose`, path.join(inbox, 'link.cose'));
    await symlink(rel.file, path.join(inbox, 'link.img'));
    await writeFile(path.join(inbox, 'm.cose'), rel.manifest);
    await writeFile(path.join(inbox, 'x.img'), 'a payload inside');
    const install = (file: string, manifest: string) =>
      commands.execute(
        'ota.install',
        { file: path.join(inbox, file), manifest: path.join(inbox, manifest) },
        as,
      );
    expect(await install('x.img', 'link.cose')).toMatchObject({ ok: false, code: 'ENOT_ALLOWED' });
    expect(await install('link.img', 'm.cose')).toMatchObject({ ok: false, code: 'ENOT_ALLOWED' });
    expect(await install('x.img', `../../${path.basename(rel.file)}.cose`)).toMatchObject({
      ok: false,
      code: 'ENOT_ALLOWED',
    });
  });

  it('refuses a payload outside even when its manifest is inside', async () => {
    const { device, commands, inbox } = await setup();
    const rel = await device.release(fakeImage('2.0.0', 256 * 1024), { seq: 2 });
    await writeFile(path.join(inbox, 'u.cose'), rel.manifest);
    expect(
      await commands.execute('ota.install', { file: rel.file, manifest: path.join(inbox, 'u.cose') }, as),
    ).toMatchObject({ ok: false, code: 'ENOT_ALLOWED' });
  });

  it('names a missing image first, then a missing manifest beside a present image', async () => {
    const { commands, inbox } = await setup();
    expect(await commands.execute('ota.install', { file: path.join(inbox, 'none.img') }, as)).toMatchObject({
      ok: false,
      code: 'ENO_PAYLOAD',
      message: expect.stringMatching(/none\.img: ENOENT/),
    });
    await writeFile(path.join(inbox, 'some.img'), 'an image without a manifest');
    expect(await commands.execute('ota.install', { file: path.join(inbox, 'some.img') }, as)).toMatchObject({
      ok: false,
      code: 'ENO_MANIFEST',
      message: expect.stringMatching(/some\.img\.cose: ENOENT/),
    });
  });

  it('installs a payload and manifest from the inbox', async () => {
    const { device, commands, ota } = await setup();
    const rel = await device.release(
      fakeImage('2.0.0', 256 * 1024),
      { seq: 2 },
      { name: 'state/inbox/u.img' },
    );
    await writeFile(`${rel.file}.cose`, rel.manifest);
    expect(await commands.execute('ota.install', { file: rel.file }, as)).toMatchObject({
      ok: true,
      result: { accepted: true, version: '1.2.0' },
    });
    await ota.idle();
    expect((await ota.status()).install).toMatchObject({ phase: 'armed' });
  });
});
