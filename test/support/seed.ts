import { randomInt } from 'node:crypto';

/**
 * The one seed of every randomised suite. TALLY_TEST_SEED replays a run's random choices (its
 * timing is the machine's); without it a run picks its own. Suites name `replay` in their test
 * titles and assertion messages, so that a failure says how to run it again.
 */
export const SEED_VARIABLE = 'TALLY_TEST_SEED';

/** What `prng` takes: any unsigned 32-bit integer. */
export const MAX_SEED = 0xffff_ffff;

/** Picked seeds stay short, to read and to type. */
const MAX_PICKED_SEED = 1_000_000;

export interface TestSeed {
  readonly value: number;
  /** `seed 1234; replay with TALLY_TEST_SEED=1234` */
  readonly replay: string;
}

export function testSeed(): TestSeed {
  const given = process.env[SEED_VARIABLE]?.trim();
  let value: number;
  if (given === undefined || given === '') {
    value = randomInt(MAX_PICKED_SEED);
  } else {
    value = Number(given);
    // A mistyped seed would quietly run some other seed than the one asked for: refuse it.
    if (!/^\d+$/.test(given) || value > MAX_SEED) throw new Error(`${SEED_VARIABLE} must be an integer from 0 to ${MAX_SEED}, got "${given}"`);
  }
  return { value, replay: `seed ${value}; replay with ${SEED_VARIABLE}=${value}` };
}
