/**
 * Our U-Boot environment code against the real tools (u-boot-tools' mkenvimage, libubootenv's
 * fw_printenv / fw_setenv) on a file-backed redundant environment: each reads what the other writes,
 * a torn copy falls back to the other one alike, and the U-Boot backend through the tools behaves like
 * the native one.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { AbEnvBackend } from '../../../agent/ota/boot/ab-env-backend.js';
import { encodeEnvImage } from '../../../agent/ota/boot/uboot-env-image.js';
import { FwToolsUbootEnv, NativeUbootEnv } from '../../../agent/ota/boot/uboot-env-store.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-fwenv-');
const COPY = 0x4000;

function printenv(config: string): Map<string, string> {
  const out = execFileSync('fw_printenv', ['-c', config], { encoding: 'utf8' });
  return new Map(
    out
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
  );
}

/** A redundant environment made by mkenvimage (both copies from the same text). */
async function envFromMkenvimage(dir: string, text: string): Promise<{ config: string; file: string }> {
  await writeFile(path.join(dir, 'env.txt'), text);
  execFileSync('mkenvimage', [
    '-r',
    '-s',
    String(COPY),
    '-o',
    path.join(dir, 'copy.bin'),
    path.join(dir, 'env.txt'),
  ]);
  const copy = await readFile(path.join(dir, 'copy.bin'));
  const file = path.join(dir, 'uboot.env');
  await writeFile(file, Buffer.concat([copy, copy]));
  const config = path.join(dir, 'fw_env.config');
  await writeFile(config, `${file} 0x0000 0x4000\n${file} 0x4000 0x4000\n`);
  return { config, file };
}

describeWithTools(
  ['mkenvimage', 'fw_printenv', 'fw_setenv'],
  'the U-Boot environment, native and through the real tools',
  () => {
    it('reads an image made by mkenvimage exactly as fw_printenv does', async () => {
      const { config } = await envFromMkenvimage(
        await newDir(),
        'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nbootcmd=run distro_bootcmd; reset\n',
      );
      const native = await new NativeUbootEnv({ configFile: config }).read();
      expect(native).toEqual(printenv(config));
      expect(native.get('bootcmd')).toBe('run distro_bootcmd; reset');
    });

    it('produces the same bytes as mkenvimage for the same variables', async () => {
      const dir = await newDir();
      await writeFile(path.join(dir, 'env.txt'), 'a=1\nb=two words\n');
      execFileSync('mkenvimage', [
        '-p',
        '0',
        '-s',
        '0x1000',
        '-o',
        path.join(dir, 'm.bin'),
        path.join(dir, 'env.txt'),
      ]);
      const ours = encodeEnvImage(
        new Map([
          ['b', 'two words'],
          ['a', '1'],
        ]),
        0x1000,
        false,
      );
      expect(ours.equals(await readFile(path.join(dir, 'm.bin')))).toBe(true);
    });

    it('writes the other copy with the next flags, which fw_printenv then reads', async () => {
      const { config } = await envFromMkenvimage(await newDir(), 'BOOT_ORDER=A\nBOOT_A_LEFT=3\n');
      const native = new NativeUbootEnv({ configFile: config });
      await native.write({ BOOT_ORDER: 'B A', BOOT_B_LEFT: '3' });
      expect(printenv(config)).toEqual(
        new Map([
          ['BOOT_ORDER', 'B A'],
          ['BOOT_A_LEFT', '3'],
          ['BOOT_B_LEFT', '3'],
        ]),
      );
      await native.write({ BOOT_B_LEFT: null });
      expect(printenv(config).has('BOOT_B_LEFT')).toBe(false);
    });

    it('reads what fw_setenv wrote, several variables in one script', async () => {
      const { config } = await envFromMkenvimage(await newDir(), 'BOOT_ORDER=A\n');
      const tools = new FwToolsUbootEnv({ configFile: config });
      await tools.write({ BOOT_ORDER: 'B A', BOOT_B_LEFT: '3', note: 'x=y z' });
      expect(await new NativeUbootEnv({ configFile: config }).read()).toEqual(await tools.read());
      expect((await tools.read()).get('note')).toBe('x=y z');
    });

    it('falls back to the older copy when the newer one is torn, like fw_printenv', async () => {
      const { config, file } = await envFromMkenvimage(await newDir(), 'BOOT_ORDER=A\nBOOT_A_LEFT=3\n');
      const native = new NativeUbootEnv({ configFile: config });
      await native.write({ BOOT_ORDER: 'B A' }); // copy 2, flags 2
      const image = await readFile(file);
      image[COPY + 20]! ^= 0xff; // tear the newer copy
      await writeFile(file, image);
      expect((await native.read()).get('BOOT_ORDER')).toBe('A');
      expect(printenv(config).get('BOOT_ORDER')).toBe('A');
    });

    it('drives the same A/B steps through fw_setenv as natively', async () => {
      const results: Record<string, string>[] = [];
      for (const kind of ['fw', 'native'] as const) {
        const { config } = await envFromMkenvimage(
          await newDir(),
          'BOOT_ORDER=A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\n',
        );
        const store =
          kind === 'fw'
            ? new FwToolsUbootEnv({ configFile: config })
            : new NativeUbootEnv({ configFile: config });
        const backend = new AbEnvBackend('uboot', store, {
          bootedSlot: async () => 'A',
          bootId: async () => 'b',
        });
        await backend.setState('B', 'bad');
        await backend.setPrimary('B');
        await backend.setState('B', 'good');
        results.push(Object.fromEntries(printenv(config)));
      }
      expect(results[0]).toEqual({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '3' });
      expect(results[1]).toEqual(results[0]);
    });

    it('reports a failing tool with its message', async () => {
      const dir = await newDir();
      const config = path.join(dir, 'fw_env.config');
      await writeFile(config, `${path.join(dir, 'missing.env')} 0 0x4000\n`);
      await expect(new FwToolsUbootEnv({ configFile: config }).read()).rejects.toMatchObject({
        code: 'EBOOT_ENV',
      });
    });
  },
);
