import { describe, expect, it } from 'vitest';
import { Bits } from './completion-watch.js';

describe('Bits', () => {
  it('remembers each number once, across byte boundaries', () => {
    const bits = new Bits(20);
    expect(bits.set(0)).toBe(true);
    expect(bits.set(7)).toBe(true);
    expect(bits.set(8)).toBe(true);
    expect(bits.set(19)).toBe(true);
    expect(bits.set(8)).toBe(false);
    expect([...Array(20).keys()].filter((n) => bits.has(n))).toEqual([0, 7, 8, 19]);
  });
});
