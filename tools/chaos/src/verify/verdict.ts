import type { SubmitRecord } from '../load/record.js';
import { checkEffects } from './effects.js';
import { checkExactlyOnce } from './exactly-once.js';
import { checkOrder } from './order.js';
import type { Seen } from './seen.js';
import type { Violation } from './violation.js';

/** The client's record held against the books as Tally shows them: every check, and the counts. */
export interface Verdict {
  /** Acknowledged, plus given up by the client yet recorded. */
  readonly accepted: number;
  readonly acceptedAfterGivingUp: number;
  readonly gaveUpAbsent: number;
  readonly completed: number;
  readonly failedByReason: ReadonlyMap<string, number>;
  readonly refusedByReason: ReadonlyMap<string, number>;
  readonly placedInOrder: number;
  readonly failuresPlacedInOrder: number;
  readonly violations: readonly Violation[];
}

export function judge(records: readonly SubmitRecord[], seen: Seen): Verdict {
  const once = checkExactlyOnce(records, seen);
  const effects = checkEffects(once.accepted, seen);
  const order = checkOrder(once.accepted, seen);
  const failedByReason = new Map<string, number>();
  let completed = 0;
  for (const { operation } of once.accepted) {
    if (operation.status === 'COMPLETED') completed++;
    else if (operation.status === 'FAILED') bump(failedByReason, operation.errorCode ?? 'UNKNOWN');
  }
  const refusedByReason = new Map<string, number>();
  for (const r of records) if (r.outcome.kind === 'refused') bump(refusedByReason, r.outcome.reason ?? r.outcome.code);
  return {
    accepted: once.accepted.length,
    acceptedAfterGivingUp: once.accepted.filter((a) => a.late).length,
    gaveUpAbsent: once.gaveUpAbsent,
    completed,
    failedByReason,
    refusedByReason,
    placedInOrder: order.placed,
    failuresPlacedInOrder: order.failuresPlaced,
    violations: [...once.violations, ...effects.violations, ...order.violations],
  };
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
