import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BootSlotInfo } from '../../../../agent/ota/boot/boot-slot-info.js';
import { GrubBackend } from '../../../../agent/ota/boot/grub.js';
import { encodeGrubenv, GRUBENV_SIGNATURE, parseGrubenv } from '../../../../agent/ota/boot/grubenv.js';
import { tempDirs } from '../../../support/temp-dir.js';

const newDir = tempDirs('ota-grub-');
const booted = (slot: 'A' | 'B' | undefined): BootSlotInfo => ({
  bootedSlot: async () => slot,
  bootId: async () => 'boot-1',
});

describe('the GRUB environment block', () => {
  it('is exactly 1024 bytes: the signature, name=value lines, # padding', () => {
    const block = encodeGrubenv(
      new Map([
        ['ORDER', 'A B'],
        ['A_OK', '1'],
      ]),
    );
    expect(block.length).toBe(1024);
    expect(block.toString('latin1', 0, 43)).toBe(`${GRUBENV_SIGNATURE}ORDER=A B\nA_OK=1\n#`);
    expect(block.subarray(42).every((b) => b === 0x23)).toBe(true);
  });

  it('escapes backslashes and newlines in values and reads them back', () => {
    const vars = new Map([['cmdline', 'a\\b\nc']]);
    const block = encodeGrubenv(vars);
    expect(block.toString('latin1', 25, 36)).toBe('cmdline=a\\\\');
    expect(parseGrubenv(block)).toEqual(vars);
  });

  it('reads a missing, empty or short block as what it holds', () => {
    expect(parseGrubenv(new Uint8Array(0))).toEqual(new Map());
    expect(parseGrubenv(Buffer.from('# GRUB Env', 'latin1'))).toEqual(new Map());
    // Cut off inside the second variable: the complete one is kept, the fragment (no '=') ignored.
    expect(parseGrubenv(Buffer.from(`${GRUBENV_SIGNATURE}A_OK=1\nB_O`, 'latin1'))).toEqual(
      new Map([['A_OK', '1']]),
    );
  });

  it('refuses bytes that are not a GRUB environment and an environment that does not fit', () => {
    expect(() => parseGrubenv(Buffer.from('hello world'))).toThrow(/not a GRUB environment/);
    expect(() => encodeGrubenv(new Map([['big', 'x'.repeat(1100)]]))).toThrow(/full/);
  });
});

describe("the GRUB backend (RAUC's ORDER / <slot>_OK / <slot>_TRY)", () => {
  it('starts from an empty grubenv, arms a trial and confirms it', async () => {
    const file = path.join(await newDir(), 'grubenv');
    await writeFile(file, '');
    const grub = new GrubBackend({ grubenv: file }, booted('A'));
    expect(await grub.getPrimary()).toBeUndefined();
    await grub.setPrimary('A');
    expect(await grub.inspect()).toEqual({ A_OK: '1', A_TRY: '0', ORDER: 'A B' });
    await grub.setState('B', 'bad');
    expect(await grub.getState('B')).toBe('bad');
    await grub.setPrimary('B');
    expect(await grub.getPrimary()).toBe('B');
    // grub.cfg sets B_TRY=1 when it boots B; until confirmed, B is not good and A is primary again.
    const block = await readFile(file);
    await writeFile(file, encodeGrubenv(new Map([...parseGrubenv(block), ['B_TRY', '1']])));
    expect(await grub.getState('B')).toBe('bad');
    expect(await grub.getPrimary()).toBe('A');
    await grub.setState('B', 'good');
    expect(await grub.getPrimary()).toBe('B');
    expect((await readFile(file)).length).toBe(1024);
    expect(await grub.getCurrent()).toBe('A');
  });
});
