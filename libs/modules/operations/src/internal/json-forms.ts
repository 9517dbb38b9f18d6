import type { StoredResult, StoredStep } from './schema.js';
import type { OperationResult, OperationStep } from './types.js';

/**
 * Steps and results as JSON (bigints as decimal strings, times as ISO-8601): the one form
 * PostgreSQL stores them in and the status feed carries them in.
 */

export function stepsToJson(steps: readonly OperationStep[]): StoredStep[] {
  return steps.map((s) => ({ name: s.name, status: s.status, time: s.time.toISOString() }));
}

export function stepsFromJson(steps: readonly StoredStep[]): OperationStep[] {
  return steps.map((s) => ({ name: s.name, status: s.status, time: new Date(s.time) }));
}

export function resultToJson(result: OperationResult): StoredResult {
  return {
    balanceChanges: result.balanceChanges.map((c) => ({
      ledgerId: c.ledgerId,
      currency: c.currency,
      amount: c.amount.toString(),
      balanceAfter: c.balanceAfter.toString(),
    })),
  };
}

export function resultFromJson(result: StoredResult): OperationResult {
  return {
    balanceChanges: result.balanceChanges.map((c) => ({
      ledgerId: c.ledgerId,
      currency: c.currency,
      amount: BigInt(c.amount),
      balanceAfter: BigInt(c.balanceAfter),
    })),
  };
}
