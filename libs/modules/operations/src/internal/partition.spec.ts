import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { partitionOf } from './partition.js';

/**
 * Ledger ids as a burst of creations makes them: UUIDv7s sharing one millisecond's prefix and
 * differing in the tail. Derived from the index, so every run checks the same ids.
 */
function burstOfLedgerIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const tail = createHash('sha256').update(`ledger ${i}`).digest('hex');
    return `0193f5a2-7c1e-7${tail.slice(0, 3)}-${'89ab'[parseInt(tail[3]!, 16) % 4]}${tail.slice(4, 7)}-${tail.slice(7, 19)}`;
  });
}

describe('partitionOf', () => {
  it('puts a known ledger in the same partition in every process and version', () => {
    // Worked out by another FNV-1a 32 implementation (0xf668264c for this id): a changed
    // hash would move ledgers with operations in flight and break per-ledger order.
    const id = '0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a55';
    expect(partitionOf(id, 8)).toBe(4); // the default TALLY_PARTITIONS
    expect(partitionOf(id, 4)).toBe(0);
    expect(partitionOf(id, 1024)).toBe(588); // MAX_PARTITIONS
    // The published FNV-1a 32 reference vectors: "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
    expect(partitionOf('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(partitionOf('foobar', 1000)).toBe(0xbf9cf968 % 1000);
  });

  it('names a partition from 0 to partitions - 1, for every count a server accepts', () => {
    const ids = burstOfLedgerIds(200);
    for (const partitions of [1, 2, 3, 8, 1024]) {
      const outside = ids.filter((id) => {
        const p = partitionOf(id, partitions);
        return !Number.isInteger(p) || p < 0 || p >= partitions;
      });
      expect(outside, `${partitions} partitions`).toEqual([]);
    }
  });

  it('spreads a burst of new ledgers over every partition, none with much more than its share', () => {
    const counts = new Array<number>(8).fill(0);
    for (const id of burstOfLedgerIds(8_000)) counts[partitionOf(id, 8)]!++;
    // 1,000 each on average; a partition beyond ±15% would make one worker the bottleneck.
    for (const [partition, count] of counts.entries()) expect(count, `partition ${partition}`).toBeGreaterThan(850);
    for (const [partition, count] of counts.entries()) expect(count, `partition ${partition}`).toBeLessThan(1_150);
  });

  it('refuses a partition count that is not a whole number of at least 1', () => {
    for (const partitions of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => partitionOf('0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a55', partitions), String(partitions)).toThrow(RangeError);
    }
  });
});
