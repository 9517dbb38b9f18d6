import type { EntityManager } from '@mikro-orm/postgresql';
import { currencies } from '@tally/currencies';
import { checkPageSize, decodePageToken, encodePageToken, Violations, checkUuid, type PageRequest } from '@tally/platform';
import { ledgerAccounts, loadLedger, requireLedgerRow, toLedger } from './ledger-store.js';
import { EntryEntity, LedgerEntity } from './schema.js';
import type { Balance, Entry, Ledger, Page } from './types.js';
import { validateLedgerId } from './validation.js';

/** The sync reads of the ledgers module: one ledger, a page of ledgers, balances, entries. */

export async function getLedger(em: EntityManager, ledgerId: string): Promise<Ledger> {
  return loadLedger(em, validateLedgerId(ledgerId));
}

export async function listLedgers(em: EntityManager, page: PageRequest): Promise<Page<Ledger>> {
  const v = new Violations();
  const pageSize = checkPageSize(v, page.pageSize);
  const after = decodePageToken(v, 'ledgers', page.pageToken);
  v.throwIfAny();
  // Ledger ids are UUIDv7: ordering by id is ordering by creation.
  const rows = await em.find(LedgerEntity, after ? { id: { $gt: after } } : {}, {
    orderBy: { id: 'asc' },
    limit: pageSize + 1,
  });
  const pageRows = rows.slice(0, pageSize);
  const accounts = await ledgerAccounts(em, pageRows.map((r) => r.id));
  const items = pageRows.map((row) => toLedger(row, accounts.filter((a) => a.ledgerId === row.id)));
  const last = pageRows.at(-1);
  return { items, nextPageToken: rows.length > pageSize && last ? encodePageToken('ledgers', last.id) : '' };
}

/** Every currency ever enabled on the ledger, zero balances included, ordered by code. */
export async function getBalances(em: EntityManager, ledgerId: string): Promise<Balance[]> {
  await requireLedgerRow(em, validateLedgerId(ledgerId));
  const accounts = await ledgerAccounts(em, [ledgerId]);
  return accounts
    .map((a) => ({ currency: a.currency, amount: a.balance, exponent: exponentOf(a.currency) }))
    .sort((a, b) => a.currency.localeCompare(b.currency));
}

export interface ListEntriesInput extends PageRequest {
  readonly ledgerId: string;
  /** Empty for every currency. */
  readonly currency: string;
}

export async function listEntries(em: EntityManager, input: ListEntriesInput): Promise<Page<Entry>> {
  const v = new Violations();
  checkUuid(v, 'ledger_id', input.ledgerId);
  if (input.currency !== '') currencies.checkCurrencyCode(v, 'currency', input.currency);
  const pageSize = checkPageSize(v, input.pageSize);
  const query = `entries:${input.ledgerId}:${input.currency}`;
  const before = decodePageToken(v, query, input.pageToken);
  if (before !== undefined && !/^\d{1,19}$/.test(before)) v.add('page_token', 'is not a page token returned by this query');
  v.throwIfAny();
  await requireLedgerRow(em, input.ledgerId);
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
  return { items, nextPageToken: rows.length > pageSize && last ? encodePageToken(query, last.id) : '' };
}

function exponentOf(code: string): number {
  const currency = currencies.find(code);
  // Accounts are only ever opened for catalogue currencies; anything else is corrupt data.
  if (!currency) throw new Error(`account in unknown currency ${code}`);
  return currency.exponent;
}
