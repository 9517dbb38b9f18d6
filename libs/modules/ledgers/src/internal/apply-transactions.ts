import { currencies } from '@tally/currencies';
import { statement, type SqlTransaction } from '@tally/platform';
import type { TransactionRequest } from './submit-transaction.js';

/**
 * The worker half of SubmitTransaction, for a whole batch at once: each credit or debit is one
 * double-entry posting between the ledger's account and the per-currency EXTERNAL system
 * account (money entering or leaving the books).
 *
 * Set-based, in the worker's transaction: lock every account the batch touches (in id order,
 * so two workers can never deadlock), work out each operation in order in memory (balance
 * checks included: the rows are locked, nothing can change under us), then write all balances
 * and entries with a few statements. A refused operation writes nothing.
 */

export interface ApplyContext {
  /** The worker's transaction: the booking's statements run in it. */
  readonly tx: SqlTransaction;
  /** The system-account shard to book against (the worker's partition). */
  readonly shard: number;
}

export interface OperationToApply {
  readonly id: string;
  readonly ledgerId: string;
  readonly transactionId: string;
  readonly request: Readonly<Record<string, unknown>>;
}

export interface BalanceChangeMade {
  readonly ledgerId: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly balanceAfter: bigint;
}

export type ApplyResult =
  | { readonly ok: true; readonly balanceChanges: readonly BalanceChangeMade[] }
  | { readonly ok: false; readonly error: { code: string; message: string; details: Record<string, string> } };

const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;

interface LockedAccount {
  readonly id: string;
  balance: bigint;
  readonly enabled: boolean;
  readonly overdraftAllowed: boolean;
}

interface EntryRow {
  /** Position in the batch: entries are written (and numbered) in this order. */
  ord: number;
  /** Which posting of the batch it belongs to: two entries each. */
  posting: number;
  account_id: string;
  ledger_id: string | null;
  operation_id: string;
  transaction_id: string;
  currency: string;
  amount: string;
  balance_after: string;
}

/** One movement of a booking: `delta` on the ledger's account, the opposite on the system account. */
export interface Leg {
  readonly ledgerId: string;
  readonly currency: string;
  /** Signed minor units: positive into the ledger. */
  readonly delta: bigint;
  /** The per-currency system account on the other side. */
  readonly counterparty: 'EXTERNAL' | 'FX' | 'TRANSIT';
  /** A compensating credit returning money to where it came from: applies even if the currency was disabled on the ledger since (money must be able to go back). Never a debit. */
  readonly restore?: boolean;
}

/** What one operation books: all its legs, or (refused) none. */
export type Booking = { readonly operationId: string; readonly transactionId: string; readonly legs: readonly Leg[] } | { readonly refused: ApplyResult };

export async function applyTransactions(ctx: ApplyContext, ops: readonly OperationToApply[]): Promise<ApplyResult[]> {
  return bookPostings(
    ctx,
    ops.map((op): Booking => {
      const request = parseRequest(op.request);
      if (!request) return { refused: malformed(op) };
      const amount = BigInt(request.amount);
      const delta = request.type === 'CREDIT' ? amount : -amount;
      return { operationId: op.id, transactionId: op.transactionId, legs: [{ ledgerId: op.ledgerId, currency: request.currency, delta, counterparty: 'EXTERNAL' }] };
    }),
  );
}

/**
 * Books each operation's legs, in order, each leg a posting between the ledger's account and
 * the shard's system account of its kind. An operation's legs apply together or not at all:
 * all are checked (funds, currency enabled, int64 range) before any is applied. A restore leg
 * skips the currency-enabled check: money going back to its source is never refused for it.
 */
export async function bookPostings(ctx: ApplyContext, bookings: readonly Booking[]): Promise<ApplyResult[]> {
  const legs = bookings.flatMap((b) => ('legs' in b ? b.legs : []));
  const badRestore = legs.find((l) => l.restore && l.delta <= 0n);
  if (badRestore) throw new Error(`a restore leg must be a credit: ${badRestore.delta} ${badRestore.currency} on ledger ${badRestore.ledgerId}`);
  if (legs.length === 0) return bookings.map((b) => ('refused' in b ? b.refused : { ok: true, balanceChanges: [] }));
  const { tx, shard } = ctx;
  const wanted = [...new Map(legs.map((l) => [`${l.ledgerId}/${l.currency}`, { ledger_id: l.ledgerId, currency: l.currency }])).values()];
  const systemWanted = [...new Set(legs.map((l) => `${l.counterparty}/${l.currency}`))].sort().map((k) => {
    const [kind, currency] = k.split('/') as [string, string];
    return { kind, currency };
  });
  // One round trip: the ledger accounts locked, the shard's system accounts created on first
  // use (the upsert locks them too).
  const [ledgerAccounts, systemAccounts] = await Promise.all([
    tx.query<{ id: string; ledger_id: string; currency: string; balance: string; enabled: boolean; overdraft_allowed: boolean }>(LOCK_ACCOUNTS, [
      JSON.stringify(wanted),
    ]),
    tx.query<{ id: string; kind: string; currency: string; balance: string }>(UPSERT_SYSTEM_ACCOUNTS, [shard, JSON.stringify(systemWanted)]),
  ]);

  const accounts = new Map<string, LockedAccount>(
    ledgerAccounts.map((a) => [
      `${a.ledger_id}/${a.currency}`,
      { id: String(a.id), balance: BigInt(a.balance), enabled: a.enabled, overdraftAllowed: a.overdraft_allowed },
    ]),
  );
  const system = new Map<string, LockedAccount>(
    systemAccounts.map((a) => [`${a.kind}/${a.currency}`, { id: String(a.id), balance: BigInt(a.balance), enabled: true, overdraftAllowed: true }]),
  );

  const entries: EntryRow[] = [];
  const results = bookings.map((booking): ApplyResult => {
    if ('refused' in booking) return booking.refused;
    // Check every leg against the balances as they would be after the earlier legs.
    const pending = new Map<LockedAccount, bigint>();
    const after = (a: LockedAccount) => pending.get(a) ?? a.balance;
    for (const leg of booking.legs) {
      const account = accounts.get(`${leg.ledgerId}/${leg.currency}`);
      const counter = system.get(`${leg.counterparty}/${leg.currency}`);
      if (!counter) throw new Error(`no ${leg.counterparty} ${leg.currency} account for shard ${shard}`);
      if (!account && leg.restore) {
        // Money returns to the account it left, which exists: anything else is a bug.
        throw new Error(`restore leg of operation ${booking.operationId}: ledger ${leg.ledgerId} has no ${leg.currency} account`);
      }
      if (!account || (!account.enabled && !leg.restore)) {
        return refuse('CURRENCY_NOT_ENABLED', `${leg.currency} is not enabled on ledger ${leg.ledgerId}`, { ledger_id: leg.ledgerId, currency: leg.currency });
      }
      const next = after(account) + leg.delta;
      const counterNext = after(counter) - leg.delta;
      if (!account.overdraftAllowed && next < 0n) {
        return refuse('INSUFFICIENT_FUNDS', `the ${leg.currency} balance ${after(account)} is less than the debit of ${-leg.delta}`, {
          ledger_id: leg.ledgerId,
          currency: leg.currency,
          balance: after(account).toString(),
          amount: (-leg.delta).toString(),
        });
      }
      if (next > INT64_MAX || next < INT64_MIN || counterNext > INT64_MAX || counterNext < INT64_MIN) {
        return refuse('BALANCE_OUT_OF_RANGE', `the ${leg.currency} balance would leave the int64 range`, {
          ledger_id: leg.ledgerId,
          currency: leg.currency,
          amount: leg.delta.toString(),
        });
      }
      pending.set(account, next);
      pending.set(counter, counterNext);
    }
    // Every leg holds: book them, one posting each, two entries that sum to zero.
    const balanceChanges: BalanceChangeMade[] = [];
    for (const leg of booking.legs) {
      const account = accounts.get(`${leg.ledgerId}/${leg.currency}`)!;
      const counter = system.get(`${leg.counterparty}/${leg.currency}`)!;
      account.balance += leg.delta;
      counter.balance -= leg.delta;
      const posting = entries.length / 2;
      const common = { posting, operation_id: booking.operationId, transaction_id: booking.transactionId, currency: leg.currency };
      entries.push(
        { ...common, ord: entries.length, account_id: account.id, ledger_id: leg.ledgerId, amount: leg.delta.toString(), balance_after: account.balance.toString() },
        { ...common, ord: entries.length + 1, account_id: counter.id, ledger_id: null, amount: (-leg.delta).toString(), balance_after: counter.balance.toString() },
      );
      balanceChanges.push({ ledgerId: leg.ledgerId, currency: leg.currency, amount: leg.delta, balanceAfter: account.balance });
    }
    return { ok: true, balanceChanges };
  });
  if (entries.length === 0) return results;

  const touched = [...accounts.values(), ...system.values()].map((a) => ({ id: a.id, balance: a.balance.toString() }));
  // Sent now, confirmed before the worker's transaction commits: they travel with its status writes.
  void tx.defer(UPDATE_BALANCES, [JSON.stringify(touched), touched.map((a) => a.id)]);
  void tx.defer(INSERT_ENTRIES, [entries.length / 2, JSON.stringify(entries)]);
  return results;
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

/** The shard's system accounts, created on first use; the upsert also locks them. */
const UPSERT_SYSTEM_ACCOUNTS = statement(
  'ledgers_book_system_accounts',
  `insert into ledgers.account (kind, currency, shard, balance)
   select x.kind, x.currency, $1, 0 from jsonb_to_recordset($2::jsonb) as x(kind text, currency text)
   on conflict (kind, currency, shard) where kind <> 'LEDGER' do update set update_time = ledgers.account.update_time
   returning id, kind, currency::text as currency, balance`,
);

/** The accounts found through their primary key (`= any`), not by joining the list to the table. */
const UPDATE_BALANCES = statement(
  'ledgers_book_balances',
  `update ledgers.account a set balance = x.balance, update_time = now()
     from jsonb_to_recordset($1::jsonb) as x(id bigint, balance bigint)
    where a.id = any($2::bigint[]) and a.id = x.id and a.balance <> x.balance`,
);

/** Two entries per posting, numbered in the batch's order; each posting gets the next posting id. */
const INSERT_ENTRIES = statement(
  'ledgers_book_entries',
  `with postings as (select n - 1 as posting, nextval('ledgers.posting_id_seq') as id from generate_series(1, $1::int) as n)
   insert into ledgers.entry (posting_id, account_id, ledger_id, operation_id, transaction_id, currency, amount, balance_after)
   select p.id, x.account_id, x.ledger_id, x.operation_id, x.transaction_id, x.currency, x.amount, x.balance_after
     from jsonb_to_recordset($2::jsonb) as x(ord int, posting int, account_id bigint, ledger_id uuid, operation_id uuid,
                                            transaction_id text, currency text, amount bigint, balance_after bigint)
     join postings p on p.posting = x.posting
    order by x.ord`,
);

function refuse(code: string, message: string, details: Record<string, string>): ApplyResult {
  return { ok: false, error: { code, message, details } };
}

/** Accepted requests were validated; this one was not, or was altered since. Retrying cannot help. */
function malformed(op: OperationToApply): ApplyResult {
  return refuse('MALFORMED_REQUEST', `operation ${op.id} holds a request this version cannot apply`, {
    request: JSON.stringify(op.request).slice(0, 200),
  });
}

/** The request as accepted, or `undefined` when it is not one. */
function parseRequest(raw: Readonly<Record<string, unknown>>): TransactionRequest | undefined {
  const { type, amount, currency, metadata } = raw as Partial<TransactionRequest>;
  if ((type !== 'CREDIT' && type !== 'DEBIT') || typeof amount !== 'string' || !/^[1-9]\d{0,18}$/.test(amount)) return undefined;
  if (typeof currency !== 'string' || !currencies.find(currency)) return undefined;
  return { type, amount, currency, metadata: metadata ?? {} };
}
