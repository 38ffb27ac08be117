import { describe, expect, it } from 'vitest';
import { SampleWindow } from '../../../agent/infer/sample-window.js';

describe('SampleWindow', () => {
  it('gives the last size samples oldest first, row-major, once full', () => {
    const w = new SampleWindow(3, 2);
    w.push([1, 10]);
    w.push([2, 20]);
    expect(w.full).toBe(false);
    expect([...w.snapshot()]).toEqual([0, 0, 1, 10, 2, 20]);
    w.push([3, 30]);
    w.push([4, 40]);
    expect(w.full).toBe(true);
    expect([...w.snapshot()]).toEqual([2, 20, 3, 30, 4, 40]);
    expect(w.dims()).toEqual([1, 3, 2]);
  });

  it('forgets every sample on clear', () => {
    const w = new SampleWindow(2, 1);
    w.push([1]);
    w.push([2]);
    w.clear();
    expect(w.full).toBe(false);
    w.push([3]);
    expect([...w.snapshot()]).toEqual([0, 3]);
  });

  it('refuses a row of the wrong width and a bad size, naming the parameter', () => {
    expect(() => new SampleWindow(0, 1)).toThrow(/size/);
    expect(() => new SampleWindow(2, 1).push([1, 2])).toThrow(/row must have 1 values/);
  });
});
