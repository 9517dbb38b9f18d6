import type { EntityManager } from '@mikro-orm/postgresql';
import { currencies } from '@tally/currencies';
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
  /** The worker's transaction: statements run with `em.execute`. */
  readonly em: EntityManager;
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

export async function applyTransactions(ctx: ApplyContext, ops: readonly OperationToApply[]): Promise<ApplyResult[]> {
  const requests = ops.map((op) => parseRequest(op.request));
  const wanted = ops.flatMap((op, i) => (requests[i] ? [{ ledger_id: op.ledgerId, currency: requests[i].currency }] : []));
  if (wanted.length === 0) return ops.map((op) => malformed(op));
  const { em, shard } = ctx;

  const ledgerAccounts = await em.execute<Array<{ id: string; ledger_id: string; currency: string; balance: string; enabled: boolean; overdraft_allowed: boolean }>>(
    `select a.id, a.ledger_id, a.currency, a.balance, a.enabled, l.overdraft_allowed
       from ledgers.account a
       join ledgers.ledger l on l.id = a.ledger_id
      where a.kind = 'LEDGER'
        and (a.ledger_id, a.currency) in (select x.ledger_id, x.currency from jsonb_to_recordset(?::jsonb) as x(ledger_id uuid, currency text))
      order by a.id
        for update of a`,
    [JSON.stringify(wanted)],
  );
  const accounts = new Map<string, LockedAccount>(
    ledgerAccounts.map((a) => [
      `${a.ledger_id}/${a.currency}`,
      { id: String(a.id), balance: BigInt(a.balance), enabled: a.enabled, overdraftAllowed: a.overdraft_allowed },
    ]),
  );
  // The shard's EXTERNAL accounts, created on first use; the upsert also locks them.
  const systemCurrencies = [...new Set(wanted.map((w) => w.currency))].sort();
  const systemAccounts = await em.execute<Array<{ id: string; currency: string; balance: string }>>(
    `insert into ledgers.account (kind, currency, shard, balance)
     select 'EXTERNAL', c, ?, 0 from jsonb_array_elements_text(?::jsonb) as c
     on conflict (kind, currency, shard) where kind <> 'LEDGER' do update set update_time = ledgers.account.update_time
     returning id, currency, balance`,
    [shard, JSON.stringify(systemCurrencies)],
  );
  const external = new Map<string, LockedAccount>(
    systemAccounts.map((a) => [a.currency, { id: String(a.id), balance: BigInt(a.balance), enabled: true, overdraftAllowed: true }]),
  );

  const entries: EntryRow[] = [];
  const results = ops.map((op, i): ApplyResult => {
    const request = requests[i];
    if (!request) return malformed(op);
    const account = accounts.get(`${op.ledgerId}/${request.currency}`);
    const system = external.get(request.currency);
    if (!system) throw new Error(`no EXTERNAL ${request.currency} account for shard ${shard}`);
    if (!account?.enabled) {
      return refuse('CURRENCY_NOT_ENABLED', `${request.currency} is not enabled on ledger ${op.ledgerId}`, {
        ledger_id: op.ledgerId,
        currency: request.currency,
      });
    }
    const amount = BigInt(request.amount);
    const delta = request.type === 'CREDIT' ? amount : -amount;
    const after = account.balance + delta;
    const systemAfter = system.balance - delta;
    if (!account.overdraftAllowed && after < 0n) {
      return refuse('INSUFFICIENT_FUNDS', `the ${request.currency} balance ${account.balance} is less than the debit of ${amount}`, {
        ledger_id: op.ledgerId,
        currency: request.currency,
        balance: account.balance.toString(),
        amount: amount.toString(),
      });
    }
    if (after > INT64_MAX || after < INT64_MIN || systemAfter > INT64_MAX || systemAfter < INT64_MIN) {
      return refuse('BALANCE_OUT_OF_RANGE', `the ${request.currency} balance would leave the int64 range`, {
        ledger_id: op.ledgerId,
        currency: request.currency,
        amount: delta.toString(),
      });
    }
    account.balance = after;
    system.balance = systemAfter;
    // One posting, two entries that sum to zero.
    const posting = entries.length / 2;
    const common = { posting, operation_id: op.id, transaction_id: op.transactionId, currency: request.currency };
    entries.push(
      { ...common, ord: entries.length, account_id: account.id, ledger_id: op.ledgerId, amount: delta.toString(), balance_after: after.toString() },
      { ...common, ord: entries.length + 1, account_id: system.id, ledger_id: null, amount: (-delta).toString(), balance_after: systemAfter.toString() },
    );
    return { ok: true, balanceChanges: [{ ledgerId: op.ledgerId, currency: request.currency, amount: delta, balanceAfter: after }] };
  });
  if (entries.length === 0) return results;

  const touched = [...accounts.values(), ...external.values()].map((a) => ({ id: a.id, balance: a.balance.toString() }));
  await em.execute(
    `update ledgers.account a set balance = x.balance, update_time = now()
       from jsonb_to_recordset(?::jsonb) as x(id bigint, balance bigint)
      where a.id = x.id and a.balance <> x.balance`,
    [JSON.stringify(touched)],
  );
  await em.execute(
    `with postings as (select n - 1 as posting, nextval('ledgers.posting_id_seq') as id from generate_series(1, ?) as n)
     insert into ledgers.entry (posting_id, account_id, ledger_id, operation_id, transaction_id, currency, amount, balance_after)
     select p.id, x.account_id, x.ledger_id, x.operation_id, x.transaction_id, x.currency, x.amount, x.balance_after
       from jsonb_to_recordset(?::jsonb) as x(ord int, posting int, account_id bigint, ledger_id uuid, operation_id uuid,
                                              transaction_id text, currency text, amount bigint, balance_after bigint)
       join postings p on p.posting = x.posting
      order by x.ord`,
    [entries.length / 2, JSON.stringify(entries)],
  );
  return results;
}

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
