/**
 * Parsing efibootmgr's listing as v16–v17 print it (label only) and as v18 prints it (label, a tab, the
 * device path), with inactive entries, BootNext, lower-case input and lines it does not know.
 */
import { describe, expect, it } from 'vitest';
import { parseEfibootmgr } from '../../../../agent/ota/boot/efibootmgr-output.js';

const V18 = [
  'BootNext: 0002',
  'BootCurrent: 0001',
  'Timeout: 1 seconds',
  'BootOrder: 0001,0000',
  'Boot0000* UEFI Shell\tFvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)',
  'Boot0001* rootfs A\tHD(2,GPT,5e0c9a1b-0000-4000-8000-000000000002,0x800,0x100000)/File(\\EFI\\BOOT\\BOOTAA64.EFI)',
  'Boot0002* rootfs B\tHD(3,GPT,5e0c9a1b-0000-4000-8000-000000000003,0x800,0x100000)/File(\\EFI\\BOOT\\BOOTAA64.EFI)',
  'Boot0003  PXE IPv4\tMAC(001122334455,1)/IPv4(0.0.0.0,0,DHCP)',
  'MirroredPercentageAbove4G: 0.00',
  '',
].join('\n');

describe('efibootmgr output', () => {
  it('reads the v18 listing: variables, labels before the tab, active marks', () => {
    const parsed = parseEfibootmgr(V18);
    expect(parsed).toEqual({
      ok: true,
      value: {
        bootNext: '0002',
        bootCurrent: '0001',
        bootOrder: ['0001', '0000'],
        entries: [
          { num: '0000', label: 'UEFI Shell', active: true },
          { num: '0001', label: 'rootfs A', active: true },
          { num: '0002', label: 'rootfs B', active: true },
          { num: '0003', label: 'PXE IPv4', active: false },
        ],
      },
    });
  });

  it('reads the older listing without device paths, and upper-cases boot numbers', () => {
    const old =
      'BootCurrent: 000a\nTimeout: 0 seconds\nBootOrder: 000a,0001\nBoot0001* rootfs A\nBoot000a* rootfs B\n';
    expect(parseEfibootmgr(old)).toEqual({
      ok: true,
      value: {
        bootNext: undefined,
        bootCurrent: '000A',
        bootOrder: ['000A', '0001'],
        entries: [
          { num: '0001', label: 'rootfs A', active: true },
          { num: '000A', label: 'rootfs B', active: true },
        ],
      },
    });
  });

  it('has an empty BootOrder when the firmware has none', () => {
    const parsed = parseEfibootmgr('BootCurrent: 0001\nBoot0001* rootfs A\n');
    expect(parsed.ok && parsed.value.bootOrder).toEqual([]);
  });

  it.each([
    ['a malformed BootOrder', V18.replace('BootOrder: 0001,0000', 'BootOrder: 1,0000')],
    ['a malformed BootNext', V18.replace('BootNext: 0002', 'BootNext: two')],
    ['no entries at all', 'BootCurrent: 0001\nBootOrder: 0001\n'],
    ['an error message', 'EFI variables are not supported on this system.\n'],
  ])('refuses %s', (_, text) => {
    expect(parseEfibootmgr(text).ok).toBe(false);
  });
});
