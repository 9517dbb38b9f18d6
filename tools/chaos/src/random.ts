/**
 * The run's one source of chance: a seeded PRNG (mulberry32), so that the same seed makes the
 * same load plan and the same fault order. (Timing still differs between runs: which fault
 * meets which operation cannot be replayed, only what was planned.)
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A new generator seeded from this one: an independent stream for a lane or a scheduler. */
  fork(): Random;
}

export const MAX_SEED = 0xffff_ffff;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    fork: () => seededRandom(Math.floor(next() * MAX_SEED)),
  };
  return random;
}
