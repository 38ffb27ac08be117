import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../../agent/hal/serial/byte-queue.js';

describe('ByteQueue', () => {
  it('is a FIFO: take returns what was pushed, in order, across chunks', () => {
    const q = new ByteQueue();
    q.push(Uint8Array.of(1, 2));
    q.push(Uint8Array.of(3, 4, 5));
    expect(q.take(3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(q.peek(10)).toEqual(Uint8Array.of(4, 5));
    expect(q.length).toBe(2);
  });

  it('finds a sequence that spans two pushed chunks', () => {
    const q = new ByteQueue();
    q.push(Uint8Array.of(0, 0x42));
    q.push(Uint8Array.of(0x4d, 9));
    expect(q.indexOf(Uint8Array.of(0x42, 0x4d))).toBe(1);
    expect(q.indexOf(Uint8Array.of(0x42, 0x4d), 2)).toBe(-1);
  });

  it('drops and counts the oldest bytes beyond maxBytes', () => {
    const q = new ByteQueue(4);
    expect(q.push(Uint8Array.of(1, 2, 3))).toBe(0);
    expect(q.push(Uint8Array.of(4, 5, 6))).toBe(2);
    expect(q.peek(4)).toEqual(Uint8Array.of(3, 4, 5, 6));
    expect(q.push(Uint8Array.of(7, 8, 9, 10, 11))).toBe(5);
    expect(q.peek(4)).toEqual(Uint8Array.of(8, 9, 10, 11));
  });

  it('refuses a maxBytes that is not a positive integer', () => {
    expect(() => new ByteQueue(0)).toThrow(/maxBytes/);
  });

  it('behaves like an array for any sequence of pushes and takes (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 50 }), fc.nat({ max: 60 })), { maxLength: 40 }),
        (ops) => {
          const q = new ByteQueue(10_000);
          const model: number[] = [];
          for (const op of ops) {
            if (typeof op === 'number') expect([...q.take(op)]).toEqual(model.splice(0, op));
            else {
              q.push(op);
              model.push(...op);
            }
            expect(q.length).toBe(model.length);
          }
        },
      ),
    );
  });
});
