import type { Random } from '../random.js';

/**
 * The kinds of fault, and in which order they come: rounds of every kind, each round in an
 * order drawn from the seed, so that the counts stay level and the neighbours of each fault
 * vary from round to round.
 */
export const FAULT_KINDS = ['kill-api', 'kill-worker', 'kill-both', 'redis-restart', 'postgres-restart', 'redis-freeze', 'provider-cut'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  'kill-api': "SIGKILL of Tally's API process (TALLY_ROLE api or all), started again after a pause",
  'kill-worker': "SIGKILL of Tally's worker process, started again after a pause",
  'kill-both': 'SIGKILL of both Tally processes at once, both started again after a pause',
  'redis-restart': 'SIGKILL of Redis, started again empty on the same port after a pause',
  'postgres-restart': 'pg_ctl restart, mostly -m immediate (a crash and its recovery), else -m fast',
  'redis-freeze': 'SIGSTOP of Redis for seconds, then SIGCONT',
  'provider-cut': "the rate provider's outage switch on for seconds, then off",
};

export class FaultSchedule {
  readonly #random: Random;
  readonly #kinds: readonly FaultKind[];
  readonly #counts: Map<FaultKind, number>;
  #round: FaultKind[] = [];

  /** `kinds`: the kinds to inject (all unless narrowed, to reproduce what one kind does). */
  constructor(random: Random, kinds: readonly FaultKind[] = FAULT_KINDS) {
    if (kinds.length === 0) throw new Error('a fault schedule needs at least one kind');
    this.#random = random;
    this.#kinds = kinds;
    this.#counts = new Map(kinds.map((k) => [k, 0]));
  }

  /** The next kind to inject, counted as injected. */
  next(): FaultKind {
    if (this.#round.length === 0) this.#round = shuffled(this.#kinds, this.#random);
    const kind = this.#round.shift()!;
    this.#counts.set(kind, this.#counts.get(kind)! + 1);
    return kind;
  }

  counts(): ReadonlyMap<FaultKind, number> {
    return this.#counts;
  }

  /** Whether every kind was injected at least `n` times. */
  reached(n: number): boolean {
    return this.#kinds.every((k) => this.#counts.get(k)! >= n);
  }
}

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
