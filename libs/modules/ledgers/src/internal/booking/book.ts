import { statement, type ApplyContext } from '@tally/platform';
import { decideBookings, ledgerAccountKey, systemAccountKey, type Booking, type BookingResult, type LockedAccount, type Posting } from './decide.js';

/**
 * Booking's I/O, around the pure decisions of `decide.ts`, in the worker's transaction: lock
 * every account the batch touches (in one order, so two workers never deadlock), decide in
 * memory, then write the balances and entries in two statements that travel with the worker's
 * status writes. A refused operation writes nothing.
 */
export async function book(ctx: ApplyContext, bookings: readonly Booking[]): Promise<BookingResult[]> {
  const legs = bookings.flatMap((b) => ('legs' in b ? b.legs : []));
  if (legs.length === 0) return bookings.map((b) => ('refused' in b ? b.refused : { ok: true, balanceChanges: [] }));
  const wanted = [...new Map(legs.map((l) => [ledgerAccountKey(l.ledgerId, l.currency), { ledger_id: l.ledgerId, currency: l.currency }])).values()];
  const systemWanted = [...new Map(legs.map((l) => [systemAccountKey(l.counterparty, l.currency), { kind: l.counterparty, currency: l.currency }]))]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, account]) => account);
  // One round trip: the ledger accounts locked, the shard's system accounts created on first
  // use (the upsert locks them too).
  const [ledgerAccounts, systemAccounts] = await Promise.all([
    ctx.tx.query<{ id: string; ledger_id: string; currency: string; balance: string; enabled: boolean; overdraft_allowed: boolean }>(LOCK_ACCOUNTS, [
      JSON.stringify(wanted),
    ]),
    ctx.tx.query<{ id: string; kind: 'EXTERNAL' | 'FX' | 'TRANSIT'; currency: string; balance: string }>(UPSERT_SYSTEM_ACCOUNTS, [
      ctx.shard,
      JSON.stringify(systemWanted),
    ]),
  ]);
  const decision = decideBookings(
    {
      ledger: new Map(
        ledgerAccounts.map((a): [string, LockedAccount] => [
          ledgerAccountKey(a.ledger_id, a.currency),
          { id: String(a.id), balance: BigInt(a.balance), enabled: a.enabled, overdraftAllowed: a.overdraft_allowed },
        ]),
      ),
      system: new Map(
        systemAccounts.map((a): [string, LockedAccount] => [
          systemAccountKey(a.kind, a.currency),
          { id: String(a.id), balance: BigInt(a.balance), enabled: true, overdraftAllowed: true },
        ]),
      ),
    },
    bookings,
  );
  if (decision.postings.length === 0) return decision.results;
  const balances = [...decision.balances].map(([id, balance]) => ({ id, balance: balance.toString() }));
  // Sent now, confirmed before the worker's transaction commits: they travel with its status writes.
  void ctx.tx.defer(UPDATE_BALANCES, [JSON.stringify(balances), balances.map((a) => a.id)]);
  void ctx.tx.defer(INSERT_ENTRIES, [decision.postings.length, JSON.stringify(decision.postings.flatMap(entryRows))]);
  return decision.results;
}

/** A posting's two entries, numbered in the batch's order (`ord`), that sum to zero. */
function entryRows(p: Posting, posting: number) {
  const common = { posting, operation_id: p.operationId, transaction_id: p.transactionId, currency: p.currency };
  return [
    { ...common, ord: 2 * posting, account_id: p.ledgerAccountId, ledger_id: p.ledgerId, amount: p.delta.toString(), balance_after: p.ledgerBalanceAfter.toString() },
    { ...common, ord: 2 * posting + 1, account_id: p.systemAccountId, ledger_id: null, amount: (-p.delta).toString(), balance_after: p.systemBalanceAfter.toString() },
  ];
}

/**
 * Every ledger account the batch books on, locked in (ledger, currency) order, the same for
 * every worker, so two never deadlock. Each is looked up on its own through the unique index
 * (a lateral lookup the planner keeps whatever its statistics say: joined on the list, it may
 * scan every account).
 */
const LOCK_ACCOUNTS = statement(
  'ledgers_book_lock_accounts',
  `select a.id, a.ledger_id, a.currency::text as currency, a.balance, a.enabled,
          (select l.overdraft_allowed from ledgers.ledger l where l.id = a.ledger_id) as overdraft_allowed
     from (select * from jsonb_to_recordset($1::jsonb) as x(ledger_id uuid, currency char(3)) order by x.ledger_id, x.currency) as x
     cross join lateral (
       select * from ledgers.account
        where kind = 'LEDGER' and ledger_id = x.ledger_id and currency = x.currency
        limit 1
          for update
     ) as a`,
);

/** The shard's system accounts, created on first use; the upsert also locks them (in kind/currency order). */
const UPSERT_SYSTEM_ACCOUNTS = statement(
  'ledgers_book_system_accounts',
  `insert into ledgers.account (kind, currency, shard, balance)
   select x.kind, x.currency, $1, 0 from jsonb_to_recordset($2::jsonb) as x(kind text, currency text)
   on conflict (kind, currency, shard) where kind <> 'LEDGER' do update set update_time = ledgers.account.update_time
   returning id, kind, currency::text as currency, balance`,
);

/**
 * The accounts found through their primary key (`= any`), not by joining the list to the table.
 * Balances are `numeric`: a system account's may lie beyond int64 (ledgers-0005).
 */
const UPDATE_BALANCES = statement(
  'ledgers_book_balances',
  `update ledgers.account a set balance = x.balance, update_time = now()
     from jsonb_to_recordset($1::jsonb) as x(id bigint, balance numeric)
    where a.id = any($2::bigint[]) and a.id = x.id and a.balance <> x.balance`,
);

/**
 * Two entries per posting, numbered in the batch's order; each posting gets the next posting id.
 * An amount is within int64 (a ledger's delta); a system entry's balance after may not be.
 */
const INSERT_ENTRIES = statement(
  'ledgers_book_entries',
  `with postings as (select n - 1 as posting, nextval('ledgers.posting_id_seq') as id from generate_series(1, $1::int) as n)
   insert into ledgers.entry (posting_id, account_id, ledger_id, operation_id, transaction_id, currency, amount, balance_after)
   select p.id, x.account_id, x.ledger_id, x.operation_id, x.transaction_id, x.currency, x.amount, x.balance_after
     from jsonb_to_recordset($2::jsonb) as x(ord int, posting int, account_id bigint, ledger_id uuid, operation_id uuid,
                                            transaction_id text, currency text, amount bigint, balance_after numeric)
     join postings p on p.posting = x.posting
    order by x.ord`,
);
