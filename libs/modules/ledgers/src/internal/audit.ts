import { IsolationLevel, type EntityManager } from '@mikro-orm/postgresql';
import { statement, type Sql } from '@tally/platform';

/**
 * The books' own invariants, checked on one consistent snapshot (REPEATABLE READ): every
 * currency's entries sum to zero; every account's balance equals the sum of its entries; every
 * posting's two entries cancel out; no transaction id of a ledger was booked by two operations.
 */
export interface BooksFindings {
  readonly currenciesNotZero: string[];
  readonly accountsNotMatchingEntries: string[];
  readonly unbalancedPostings: string[];
  readonly transactionIdsBookedTwice: string[];
}

/** Findings listed at most, newest first; the count beyond shows as a trailing "... and N more". */
const MAX_LISTED = 20;

export async function auditBooks(em: EntityManager): Promise<BooksFindings> {
  return em.transactional(
    async (tx) => {
      const list = async (sql: string): Promise<string[]> => {
        const rows = await tx.execute<Array<{ finding: string }>>(sql);
        return rows.length > MAX_LISTED ? [...rows.slice(0, MAX_LISTED).map((r) => r.finding), `... and ${rows.length - MAX_LISTED} more`] : rows.map((r) => r.finding);
      };
      return {
        currenciesNotZero: await list(
          `select currency || ' sums to ' || sum(amount) as finding from ledgers.entry group by currency having sum(amount) <> 0 order by currency`,
        ),
        accountsNotMatchingEntries: await list(
          `select 'account ' || a.id || ' (' || coalesce(a.ledger_id::text, a.kind || ' shard ' || a.shard) || ' ' || a.currency
                  || ') holds ' || a.balance || ', its entries sum to ' || coalesce(e.total, 0) as finding
             from ledgers.account a
             left join (select account_id, sum(amount) as total from ledgers.entry group by account_id) e on e.account_id = a.id
            where a.balance <> coalesce(e.total, 0)
            order by a.id desc`,
        ),
        unbalancedPostings: await list(
          `select 'posting ' || posting_id || ' sums to ' || sum(amount) as finding
             from ledgers.entry group by posting_id having sum(amount) <> 0 or count(*) <> 2
            order by posting_id desc`,
        ),
        // A transfer's credit carries its source ledger's transaction id into the target ledger,
        // where the same id may name one of the target's own operations: only entries on the
        // ledger that owns the id count (every posting but a transfer's credit to its target).
        transactionIdsBookedTwice: await list(
          `select 'ledger ' || e.ledger_id || ' transaction ' || e.transaction_id || ' booked by ' || count(distinct e.operation_id) || ' operations' as finding
             from ledgers.entry e
             join ledgers.entry s on s.posting_id = e.posting_id and s.ledger_id is null
             join ledgers.account a on a.id = s.account_id
            where e.ledger_id is not null
              and not (a.kind = 'TRANSIT' and e.amount > 0 and not exists (
                    select 1 from ledgers.entry d where d.operation_id = e.operation_id and d.ledger_id = e.ledger_id and d.amount < 0))
            group by e.ledger_id, e.transaction_id having count(distinct e.operation_id) > 1
            order by e.ledger_id, e.transaction_id`,
        ),
      };
    },
    { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
  );
}

const ENTRY_COUNTS = statement(
  'ledgers_audit_entry_counts',
  `select operation_id, count(*)::int as n from ledgers.entry
    where ledger_id is not null and operation_id = any($1::uuid[]) group by operation_id`,
);

/** How many entries each operation wrote on ledgers (system-side entries aside). */
export async function ledgerEntryCounts(sql: Sql, operationIds: readonly string[]): Promise<Map<string, number>> {
  if (operationIds.length === 0) return new Map();
  const rows = await sql.query<{ operation_id: string; n: number }>(ENTRY_COUNTS, [operationIds]);
  return new Map(rows.map((r) => [r.operation_id, r.n]));
}

/**
 * Of these operations, those whose entries on the TRANSIT accounts do not sum to zero in some
 * currency: money a transfer took out of its source and has not yet delivered or returned.
 */
const UNSETTLED_TRANSIT = statement(
  'ledgers_audit_unsettled_transit',
  `select distinct e.operation_id from ledgers.entry e
     join ledgers.account a on a.id = e.account_id
    where a.kind = 'TRANSIT' and e.operation_id = any($1::uuid[])
    group by e.operation_id, e.currency having sum(e.amount) <> 0
    order by e.operation_id`,
);

export async function unsettledTransit(sql: Sql, operationIds: readonly string[]): Promise<string[]> {
  if (operationIds.length === 0) return [];
  const rows = await sql.query<{ operation_id: string }>(UNSETTLED_TRANSIT, [operationIds]);
  return rows.map((r) => r.operation_id);
}
