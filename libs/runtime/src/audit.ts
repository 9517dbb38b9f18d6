import type { BooksFindings } from '@tally/ledgers';
import type { Operation, OperationKind, OperationStatus } from '@tally/operations';
import type { Infrastructure } from './infrastructure.js';

/**
 * The audit the brief promises, at any time: balances equal the sum of entries, every currency
 * sums to zero, no transaction id is applied twice, and every accepted operation is terminal or
 * in flight with exactly the effects its status says (a completed credit or debit one entry on
 * its ledger, a completed exchange two, a failed or cancelled operation none).
 */
export interface AuditReport extends BooksFindings {
  readonly operationsChecked: number;
  readonly operationsWithWrongEffects: string[];
  /** PENDING or PROCESSING: not findings, but what is still in flight. */
  readonly inFlight: number;
}

const ENTRIES_WHEN_COMPLETED: Readonly<Record<OperationKind, number>> = { TRANSACTION: 1, EXCHANGE: 2, TRANSFER: 2 };
const PAGE = 500;
const MAX_LISTED = 20;

export async function audit(infra: Infrastructure, onProgress: (checked: number) => void = () => undefined): Promise<AuditReport> {
  const books = await infra.ledgers.auditBooks();
  const wrong: string[] = [];
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
    operationsWithWrongEffects: wrong.length > MAX_LISTED ? [...wrong.slice(0, MAX_LISTED), `... and ${wrong.length - MAX_LISTED} more`] : wrong,
    inFlight,
  };
}

function expectedEntries(op: Operation): number {
  return op.status === 'COMPLETED' ? ENTRIES_WHEN_COMPLETED[op.kind] : 0;
}

/** True when the audit found nothing wrong. */
export function isClean(report: AuditReport): boolean {
  return [report.currenciesNotZero, report.accountsNotMatchingEntries, report.unbalancedPostings, report.transactionIdsBookedTwice, report.operationsWithWrongEffects].every(
    (findings) => findings.length === 0,
  );
}
