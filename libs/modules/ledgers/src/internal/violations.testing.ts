import { TallyError } from '@tally/platform';
import { expect } from 'vitest';

/**
 * Spec helper (`*.testing.ts` files are left out of the build): runs a check expected to refuse
 * with INVALID_ARGUMENT and returns the field violations it named.
 */
export function violationsOf(run: () => unknown): Array<{ field: string; description: string }> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TallyError);
    expect((error as TallyError).code).toBe('INVALID_ARGUMENT');
    return [...((error as TallyError).details.violations ?? [])];
  }
  throw new Error('expected INVALID_ARGUMENT');
}
