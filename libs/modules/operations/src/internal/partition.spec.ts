import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { partitionOf } from './partition.js';

describe('partitionOf', () => {
  it('puts a ledger in the same partition every time, in range', () => {
    const id = '0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a55';
    expect(partitionOf(id, 8)).toBe(partitionOf(id, 8));
    for (let i = 0; i < 1000; i++) {
      const p = partitionOf(randomUUID(), 8);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(8);
    }
  });

  it('is pinned: these assignments never change between versions', () => {
    // Changing the hash would move ledgers mid-flight and break per-ledger order.
    // FNV-1a 32 reference vectors: "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
    expect(partitionOf('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(partitionOf('foobar', 1000)).toBe(0xbf9cf968 % 1000);
    expect(partitionOf('0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a55', 8)).toBe(4);
  });

  it('spreads ledgers over every partition', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionOf(randomUUID(), 8)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(700);
  });
});
