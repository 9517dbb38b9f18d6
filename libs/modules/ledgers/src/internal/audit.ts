import { IsolationLevel, type EntityManager } from '@mikro-orm/postgresql';

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
        transactionIdsBookedTwice: await list(
          `select 'ledger ' || ledger_id || ' transaction ' || transaction_id || ' booked by ' || count(distinct operation_id) || ' operations' as finding
             from ledgers.entry where ledger_id is not null
            group by ledger_id, transaction_id having count(distinct operation_id) > 1
            order by ledger_id, transaction_id`,
        ),
      };
    },
    { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
  );
}

/** How many entries each operation wrote on ledgers (system-side entries aside). */
export async function ledgerEntryCounts(em: EntityManager, operationIds: readonly string[]): Promise<Map<string, number>> {
  if (operationIds.length === 0) return new Map();
  const rows = await em.execute<Array<{ operation_id: string; n: string }>>(
    `select operation_id, count(*)::text as n from ledgers.entry
      where ledger_id is not null and operation_id = any(?::uuid[]) group by operation_id`,
    [`{${operationIds.join(',')}}`],
  );
  return new Map(rows.map((r) => [r.operation_id, Number(r.n)]));
}
