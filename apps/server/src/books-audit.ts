import type { BooksFindings } from '@tally/ledgers';
import { MAX_AUDIT_PAGE, RETRIES_EXHAUSTED, type AuditedOperation, type OperationKind } from '@tally/operations';
import type { Infrastructure } from '@tally/runtime';

/**
 * The audit of the books, at any time, across the ledgers and operations modules (read through
 * their facades): balances equal the sum of entries, every currency
 * sums to zero, no transaction id is applied twice, and every accepted operation is terminal or
 * in flight with exactly the effects its status says: a completed credit or debit one entry on
 * its ledger, a completed exchange or transfer two; a failed or cancelled operation none, except
 * a transfer whose credit was refused (its debit and the credit restoring it); and no ended
 * operation left money in TRANSIT (but one that ran out of retries after its debit, whose money
 * waits there for an operator to requeue it).
 */
export interface AuditReport extends BooksFindings {
  readonly operationsChecked: number;
  readonly operationsWithWrongEffects: string[];
  /** Ended operations whose TRANSIT entries do not net to zero. */
  readonly operationsLeftInTransit: string[];
  /**
   * Not findings: transfers that ran out of retries after their debit, their money waiting in
   * TRANSIT for an operator to requeue them (`npm run requeue`).
   */
  readonly awaitingRequeueInTransit: string[];
  /** PENDING or PROCESSING: not findings, but what is still in flight. */
  readonly inFlight: number;
  /** In flight, yet listed in no partition's work queue: no worker would ever apply them. */
  readonly operationsNotQueued: string[];
}

const ENTRIES_WHEN_COMPLETED: Readonly<Record<OperationKind, number>> = { TRANSACTION: 1, EXCHANGE: 2, TRANSFER: 2 };
const MAX_LISTED = 20;

export async function audit(infra: Infrastructure, onProgress: (checked: number) => void = () => undefined): Promise<AuditReport> {
  const books = await infra.ledgers.auditBooks();
  const wrong: string[] = [];
  const inTransit: string[] = [];
  const awaiting: string[] = [];
  let checked = 0;
  // Every ended operation, a large page at a time in acceptance order, against the entries.
  for (let after: string | undefined = '0'; after !== undefined; ) {
    const page: { items: AuditedOperation[]; next: string | undefined } = await infra.operations.endedOperations(after, MAX_AUDIT_PAGE);
    const counts = await infra.ledgers.ledgerEntryCounts(page.items.map((o) => o.id));
    for (const op of page.items) {
      const want = expectedEntries(op);
      const got = counts.get(op.id) ?? 0;
      if (got !== want) wrong.push(`operation ${op.id} (${op.kind} ${op.status}) wrote ${got} ledger entries, expected ${want}`);
    }
    const transfers = page.items.filter((op) => op.kind === 'TRANSFER');
    for (const id of await infra.ledgers.unsettledTransit(transfers.map((op) => op.id))) {
      const requeueable = transfers.find((op) => op.id === id)?.errorCode === RETRIES_EXHAUSTED;
      if (requeueable) awaiting.push(`operation ${id} (FAILED ${RETRIES_EXHAUSTED}) holds money in TRANSIT until requeued`);
      else inTransit.push(`operation ${id} ended with money left in TRANSIT`);
    }
    checked += page.items.length;
    onProgress(checked);
    after = page.next;
  }
  const flight = await infra.operations.inFlight();
  return {
    ...books,
    operationsChecked: checked,
    operationsWithWrongEffects: capped(wrong),
    operationsLeftInTransit: capped(inTransit),
    awaitingRequeueInTransit: capped(awaiting),
    inFlight: flight.inFlight,
    operationsNotQueued: flight.unqueued === 0 ? [] : [`${flight.unqueued} operation(s) in flight are in no work queue`],
  };
}

const capped = (findings: string[]): string[] =>
  findings.length > MAX_LISTED ? [...findings.slice(0, MAX_LISTED), `... and ${findings.length - MAX_LISTED} more`] : findings;

/**
 * What an ended operation must have written on ledgers: by kind when COMPLETED; otherwise the
 * balance changes its result lists (none, or a transfer's debit and restore, or, after running
 * out of retries, the stages it got through).
 */
function expectedEntries(op: AuditedOperation): number {
  if (op.status === 'COMPLETED') return ENTRIES_WHEN_COMPLETED[op.kind];
  if (op.status === 'FAILED' && op.kind === 'TRANSFER') return op.balanceChanges;
  return 0;
}

/** True when the audit found nothing wrong. */
export function isClean(report: AuditReport): boolean {
  return [
    report.currenciesNotZero,
    report.accountsNotMatchingEntries,
    report.unbalancedPostings,
    report.transactionIdsBookedTwice,
    report.operationsWithWrongEffects,
    report.operationsLeftInTransit,
    report.operationsNotQueued,
  ].every(
    (findings) => findings.length === 0,
  );
}
