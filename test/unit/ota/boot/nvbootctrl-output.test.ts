/**
 * Parsing nvbootctrl's output: the `-t rootfs dump-slots-info` captures posted from devices in NVIDIA's
 * developer forum (JetPack 5.1 fail-over walkthrough, r36.3 "Rootfs slot falls to unbootable status"),
 * `get-current-slot`, and output that must be refused rather than guessed at.
 */
import { describe, expect, it } from 'vitest';
import { parseCurrentSlot, parseRootfsSlotsInfo } from '../../../../agent/ota/boot/nvbootctrl-output.js';

const AFTER_FAILOVER = [
  'Current rootfs slot: B',
  'Active rootfs slot: B',
  'num_slots: 2',
  'slot: 0,             retry_count: 0,             status: unbootable',
  'slot: 1,             retry_count: 3,             status: normal',
  '',
].join('\n');

describe('nvbootctrl output', () => {
  it('reads dump-slots-info after a fail-over, slot 0 as A and slot 1 as B', () => {
    expect(parseRootfsSlotsInfo(AFTER_FAILOVER)).toEqual({
      ok: true,
      value: {
        current: 'B',
        active: 'B',
        slots: { A: { retryCount: 0, status: 'unbootable' }, B: { retryCount: 3, status: 'normal' } },
      },
    });
  });

  it('tolerates trailing spaces, as the forum capture has them', () => {
    const padded = AFTER_FAILOVER.split('\n')
      .map((l) => `${l}         `)
      .join('\n');
    expect(parseRootfsSlotsInfo(padded).ok).toBe(true);
  });

  it.each([
    [
      'the bootloader view (no -t rootfs)',
      'Current bootloader slot: A\nActive bootloader slot: A\nnum_slots: 2\nslot: 0,             status: normal\n',
    ],
    ['a missing slot line', AFTER_FAILOVER.split('\n').slice(0, 4).join('\n')],
    ['an unknown status', AFTER_FAILOVER.replace('unbootable', 'bootable')],
    ['a third slot', AFTER_FAILOVER.replace('slot: 1,', 'slot: 2,')],
    ['nothing', ''],
  ])('refuses %s', (_, text) => {
    expect(parseRootfsSlotsInfo(text).ok).toBe(false);
  });

  it('reads get-current-slot, and refuses anything but 0 or 1', () => {
    expect(parseCurrentSlot('0\n')).toEqual({ ok: true, value: 'A' });
    expect(parseCurrentSlot('1')).toEqual({ ok: true, value: 'B' });
    expect(parseCurrentSlot('2\n').ok).toBe(false);
    expect(parseCurrentSlot('').ok).toBe(false);
  });
});
