import type { EntityManager } from '@mikro-orm/postgresql';
import { currencies } from '@tally/currencies';
import {
  checkPageSize,
  checkUuid,
  Coalescer,
  isInt64Digits,
  isUuid,
  notFound,
  statement,
  TallyError,
  tenantQueryPart,
  Violations,
  type PageRequest,
  type PageTokens,
  type Sql,
  type TenantScope,
} from '@tally/platform';
import { ledgerAccounts, loadLedger, toLedger } from './ledger-store.js';
import { EntryEntity, LedgerEntity } from './schema.js';
import type { Balance, Entry, Ledger, Page } from './types.js';
import { validateLedgerId } from './validation.js';

/** The sync reads of the ledgers module: one ledger, a page of ledgers, balances, entries. */

export async function getLedger(em: EntityManager, ledgerId: string): Promise<Ledger> {
  return loadLedger(em, validateLedgerId(ledgerId));
}

/** The ledgers `scope` may see, oldest first. */
export async function listLedgers(em: EntityManager, tokens: PageTokens, page: PageRequest, scope: TenantScope): Promise<Page<Ledger>> {
  const v = new Violations();
  const pageSize = checkPageSize(v, page.pageSize);
  const query = `ledgers:${tenantQueryPart(scope)}`;
  const after = tokens.decode(v, query, page.pageToken, isUuid);
  v.throwIfAny();
  const where = {
    ...(scope.tenant === null ? {} : { tenant: scope.tenant }),
    ...(after ? { id: { $gt: after } } : {}),
  };
  // Ledger ids are UUIDv7: ordering by id is ordering by creation.
  const rows = await em.find(LedgerEntity, where, {
    orderBy: { id: 'asc' },
    limit: pageSize + 1,
  });
  const pageRows = rows.slice(0, pageSize);
  const accounts = await ledgerAccounts(em, pageRows.map((r) => r.id));
  const items = pageRows.map((row) => toLedger(row, accounts.filter((a) => a.ledgerId === row.id)));
  const last = pageRows.at(-1);
  return { items, nextPageToken: rows.length > pageSize && last ? tokens.encode(query, last.id) : '' };
}

const BALANCES = statement(
  'ledgers_balances',
  `select ledger_id, currency::text as currency, balance from ledgers.account where kind = 'LEDGER' and ledger_id = any($1::uuid[])`,
);
/** Ledgers one balance query reads. */
const MAX_LEDGERS_PER_BALANCE_QUERY = 500;
const MAX_WAITING_BALANCE_READS = 50_000;
/** Balance queries at once: a share of the pool, so reads never starve the writes. */
const MAX_CONCURRENT_BALANCE_QUERIES = 3;

/**
 * Every currency ever enabled on the ledger, zero balances included, ordered by code. Reads
 * that arrive together share one query. A ledger has an account for every currency it ever
 * enabled, and at least one (it is created with one, and accounts are never removed): no
 * account means no ledger.
 */
export function createBalanceReader(sql: Sql): (ledgerId: string) => Promise<Balance[]> {
  const reads = new Coalescer<string, Balance[]>({
    run: async (ids) => {
      const rows = await sql.query<{ ledger_id: string; currency: string; balance: string }>(BALANCES, [[...new Set(ids)]]);
      const byLedger = new Map<string, Balance[]>();
      for (const row of rows) {
        const balance = { currency: row.currency, amount: BigInt(row.balance), exponent: exponentOf(row.currency) };
        const list = byLedger.get(row.ledger_id);
        if (list) list.push(balance);
        else byLedger.set(row.ledger_id, [balance]);
      }
      return ids.map((id) => (byLedger.get(id) ?? []).sort((a, b) => (a.currency < b.currency ? -1 : 1)));
    },
    maxBatchItems: MAX_LEDGERS_PER_BALANCE_QUERY,
    maxWaitingItems: MAX_WAITING_BALANCE_READS,
    maxConcurrentBatches: MAX_CONCURRENT_BALANCE_QUERIES,
    overloaded: () => new TallyError('RESOURCE_EXHAUSTED', 'too many balance reads are waiting; retry shortly', { reason: 'READS_QUEUE_FULL' }),
  });
  return async (ledgerId) => {
    const balances = await reads.submitOne(validateLedgerId(ledgerId));
    if (balances.length === 0) throw notFound('ledger', ledgerId);
    return balances;
  };
}

export interface ListEntriesInput extends PageRequest {
  readonly ledgerId: string;
  /** Empty for every currency. */
  readonly currency: string;
}

/** `requireLedger` throws NOT_FOUND unless the ledger exists and the caller may see it. */
export async function listEntries(
  em: EntityManager,
  tokens: PageTokens,
  input: ListEntriesInput,
  scope: TenantScope,
  requireLedger: (ledgerId: string) => Promise<void>,
): Promise<Page<Entry>> {
  const v = new Violations();
  checkUuid(v, 'ledger_id', input.ledgerId);
  if (input.currency !== '') currencies.checkCurrencyCode(v, 'currency', input.currency);
  const pageSize = checkPageSize(v, input.pageSize);
  const query = `entries:${tenantQueryPart(scope)}:${input.ledgerId}:${input.currency}`;
  const before = tokens.decode(v, query, input.pageToken, isInt64Digits);
  v.throwIfAny();
  await requireLedger(input.ledgerId);
  const rows = await em.find(
    EntryEntity,
    {
      ledgerId: input.ledgerId,
      ...(input.currency === '' ? {} : { currency: input.currency }),
      ...(before === undefined ? {} : { id: { $lt: before } }),
    },
    { orderBy: { id: 'desc' }, limit: pageSize + 1 },
  );
  const pageRows = rows.slice(0, pageSize);
  const items: Entry[] = pageRows.map((r) => ({
    id: r.id,
    ledgerId: input.ledgerId,
    operationId: r.operationId,
    transactionId: r.transactionId,
    currency: r.currency,
    amount: r.amount,
    balanceAfter: r.balanceAfter,
    createTime: r.createTime,
  }));
  const last = pageRows.at(-1);
  return { items, nextPageToken: rows.length > pageSize && last ? tokens.encode(query, last.id) : '' };
}

function exponentOf(code: string): number {
  const currency = currencies.find(code);
  // Accounts are only ever opened for catalogue currencies; anything else is corrupt data.
  if (!currency) throw new Error(`account in unknown currency ${code}`);
  return currency.exponent;
}
