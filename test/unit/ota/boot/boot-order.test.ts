import { describe, expect, it } from 'vitest';
import {
  applyChanges,
  attemptsLeft,
  bootOrder,
  effectiveChanges,
  primarySlot,
  setPrimaryChanges,
  setStateChanges,
  slotState,
} from '../../../../agent/ota/boot/boot-order.js';

const vars = (o: Record<string, string>) => new Map(Object.entries(o));

describe("RAUC's BOOT_ORDER / BOOT_x_LEFT rules", () => {
  it('reads the order once per slot, skipping unknown names', () => {
    expect(bootOrder(vars({ BOOT_ORDER: 'B  A B R' }))).toEqual(['B', 'A']);
    expect(bootOrder(vars({}))).toEqual([]);
  });

  it('reads counters as hex like RAUC and counts a missing or garbled one as zero', () => {
    expect(attemptsLeft(vars({ BOOT_A_LEFT: 'a' }), 'A')).toBe(10);
    expect(attemptsLeft(vars({ BOOT_A_LEFT: 'f' }), 'A')).toBe(15);
    expect(attemptsLeft(vars({ BOOT_A_LEFT: '0x3' }), 'A')).toBe(3);
    expect(attemptsLeft(vars({ BOOT_A_LEFT: 'three' }), 'A')).toBe(0);
    expect(attemptsLeft(vars({}), 'B')).toBe(0);
  });

  it('makes the first ordered slot with attempts left primary, and only such slots good', () => {
    const v = vars({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '0' });
    expect(primarySlot(v)).toBe('A');
    expect(slotState(v, 'A')).toBe('good');
    expect(slotState(v, 'B')).toBe('bad');
    expect(primarySlot(vars({ BOOT_ORDER: 'A', BOOT_A_LEFT: '0' }))).toBeUndefined();
  });

  it('set-primary moves the slot first with a fresh budget, written in hex as setexpr writes it', () => {
    const v = vars({ BOOT_ORDER: 'A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '0' });
    expect(setPrimaryChanges(v, 'B', 3)).toEqual({ BOOT_ORDER: 'B A', BOOT_B_LEFT: '3' });
    expect(setPrimaryChanges(v, 'B', 10)).toEqual({ BOOT_ORDER: 'B A', BOOT_B_LEFT: 'a' });
    expect(setPrimaryChanges(v, 'B', 15)).toEqual({ BOOT_ORDER: 'B A', BOOT_B_LEFT: 'f' });
  });

  it('set-state bad removes the slot from the order (deleting an empty order), good restores it', () => {
    const v = vars({ BOOT_ORDER: 'A B', BOOT_A_LEFT: '3', BOOT_B_LEFT: '1' });
    expect(setStateChanges(v, 'B', 'bad', 3)).toEqual({ BOOT_ORDER: 'A', BOOT_B_LEFT: '0' });
    expect(setStateChanges(vars({ BOOT_ORDER: 'B' }), 'B', 'bad', 3)).toEqual({
      BOOT_ORDER: null,
      BOOT_B_LEFT: '0',
    });
    expect(setStateChanges(vars({ BOOT_ORDER: 'A' }), 'B', 'good', 3)).toEqual({
      BOOT_ORDER: 'A B',
      BOOT_B_LEFT: '3',
    });
  });

  it('writes only what differs', () => {
    const v = vars({ BOOT_ORDER: 'A', BOOT_A_LEFT: '3' });
    expect(effectiveChanges(v, { BOOT_ORDER: 'A', BOOT_A_LEFT: '3', BOOT_B_LEFT: null })).toEqual({});
    expect(applyChanges(v, { BOOT_ORDER: null, X: '1' })).toEqual(vars({ BOOT_A_LEFT: '3', X: '1' }));
  });
});
