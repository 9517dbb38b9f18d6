import pg from 'pg';
import { TEST_DATABASE_URL } from './test-env.js';

/**
 * The bookkeeping invariants, checked on one consistent snapshot: every currency's entries
 * sum to zero (over the whole database); every account's balance equals the sum of its
 * entries (the given ledgers' accounts and every system account); every completed credit or
 * debit on the given ledgers wrote exactly one posting (two entries), and no other wrote any.
 * Other suites share the database, hence the scope.
 */
export interface AuditFindings {
  currenciesNotZero: string[];
  balancesNotEntries: string[];
  operationsWithoutOneEntry: string[];
}

export async function audit(ledgerIds: readonly string[], databaseUrl = TEST_DATABASE_URL): Promise<AuditFindings> {
  const scope = `{${ledgerIds.join(',')}}`;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const currencies = await client.query<{ currency: string; total: string }>(
      `select currency, sum(amount)::text as total from ledgers.entry group by currency having sum(amount) <> 0`,
    );
    const balances = await client.query<{ id: string }>(
      `select a.id::text from ledgers.account a
         left join (select account_id, sum(amount) as total from ledgers.entry group by account_id) e on e.account_id = a.id
        where a.balance <> coalesce(e.total, 0) and (a.ledger_id is null or a.ledger_id = any($1::uuid[]))`,
      [scope],
    );
    const operations = await client.query<{ id: string }>(
      `select o.id::text from operations.operation o
         left join (select operation_id, count(*) as n from ledgers.entry group by operation_id) e on e.operation_id = o.id
        where o.kind = 'TRANSACTION' and o.ledger_id = any($1::uuid[])
          and coalesce(e.n, 0) <> case when o.status = 'COMPLETED' then 2 else 0 end`,
      [scope],
    );
    await client.query('commit');
    return {
      currenciesNotZero: currencies.rows.map((r) => `${r.currency}: ${r.total}`),
      balancesNotEntries: balances.rows.map((r) => r.id),
      operationsWithoutOneEntry: operations.rows.map((r) => r.id),
    };
  } finally {
    await client.end();
  }
}
