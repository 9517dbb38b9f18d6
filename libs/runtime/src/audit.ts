import type { BooksFindings } from '@tally/ledgers';
import { RETRIES_EXHAUSTED, type Operation, type OperationKind, type OperationStatus } from '@tally/operations';
import type { Infrastructure } from './infrastructure.js';

/**
 * The audit the brief promises, at any time: balances equal the sum of entries, every currency
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
}

const ENTRIES_WHEN_COMPLETED: Readonly<Record<OperationKind, number>> = { TRANSACTION: 1, EXCHANGE: 2, TRANSFER: 2 };
const PAGE = 500;
const MAX_LISTED = 20;

export async function audit(infra: Infrastructure, onProgress: (checked: number) => void = () => undefined): Promise<AuditReport> {
  const books = await infra.ledgers.auditBooks();
  const wrong: string[] = [];
  const inTransit: string[] = [];
  const awaiting: string[] = [];
  let checked = 0;
  for (const status of ['COMPLETED', 'FAILED', 'CANCELLED'] as const satisfies readonly OperationStatus[]) {
    let pageToken = '';
    do {
      const page = await infra.operations.listOperations({ ledgerId: '', status, kind: null, pageSize: PAGE, pageToken });
      const counts = await infra.ledgers.ledgerEntryCounts(page.items.map((o) => o.id));
      for (const op of page.items) {
        const want = expectedEntries(op);
        const got = counts.get(op.id) ?? 0;
        if (got !== want) wrong.push(`operation ${op.id} (${op.kind} ${op.status}) wrote ${got} ledger entries, expected ${want}`);
      }
      const transfers = page.items.filter((op) => op.kind === 'TRANSFER');
      for (const id of await infra.ledgers.unsettledTransit(transfers.map((op) => op.id))) {
        const requeueable = transfers.find((op) => op.id === id)?.error?.code === RETRIES_EXHAUSTED;
        if (requeueable) awaiting.push(`operation ${id} (FAILED ${RETRIES_EXHAUSTED}) holds money in TRANSIT until requeued`);
        else inTransit.push(`operation ${id} ended with money left in TRANSIT`);
      }
      checked += page.items.length;
      onProgress(checked);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
  }
  let inFlight = 0;
  for (const status of ['PENDING', 'PROCESSING'] as const) {
    let pageToken = '';
    do {
      const page = await infra.operations.listOperations({ ledgerId: '', status, kind: null, pageSize: PAGE, pageToken });
      inFlight += page.items.length;
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
  }
  return {
    ...books,
    operationsChecked: checked,
    operationsWithWrongEffects: capped(wrong),
    operationsLeftInTransit: capped(inTransit),
    awaitingRequeueInTransit: capped(awaiting),
    inFlight,
  };
}

const capped = (findings: string[]): string[] =>
  findings.length > MAX_LISTED ? [...findings.slice(0, MAX_LISTED), `... and ${findings.length - MAX_LISTED} more`] : findings;

/**
 * What an ended operation must have written on ledgers: by kind when COMPLETED; otherwise the
 * balance changes its result lists (none, or a transfer's debit and restore, or, after running
 * out of retries, the stages it got through).
 */
function expectedEntries(op: Operation): number {
  if (op.status === 'COMPLETED') return ENTRIES_WHEN_COMPLETED[op.kind];
  if (op.status === 'FAILED' && op.kind === 'TRANSFER') return op.result?.balanceChanges.length ?? 0;
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
  ].every(
    (findings) => findings.length === 0,
  );
}
