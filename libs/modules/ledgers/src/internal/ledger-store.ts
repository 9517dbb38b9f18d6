import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '@tally/platform';
import { AccountEntity, LedgerEntity, type AccountRow, type LedgerRow } from './schema.js';
import type { Ledger } from './types.js';

/** Reads shared by the use cases: ledger rows with their enabled currencies. */

export function toLedger(row: LedgerRow, accounts: readonly AccountRow[]): Ledger {
  return {
    id: row.id,
    name: row.name,
    currencies: accounts.filter((a) => a.enabled).map((a) => a.currency),
    overdraftAllowed: row.overdraftAllowed,
    createTime: row.createTime,
    updateTime: row.updateTime,
  };
}

/** The ledger's own accounts (one per currency ever enabled), in the order they were enabled. */
export function ledgerAccounts(em: EntityManager, ledgerIds: readonly string[]): Promise<AccountRow[]> {
  if (ledgerIds.length === 0) return Promise.resolve([]);
  return em.find(AccountEntity, { ledgerId: { $in: [...ledgerIds] }, kind: 'LEDGER' }, { orderBy: { id: 'asc' } });
}

export async function requireLedgerRow(em: EntityManager, ledgerId: string): Promise<LedgerRow> {
  const row = await em.findOne(LedgerEntity, { id: ledgerId });
  if (!row) throw notFound('ledger', ledgerId);
  return row;
}

export async function loadLedger(em: EntityManager, ledgerId: string): Promise<Ledger> {
  const row = await requireLedgerRow(em, ledgerId);
  return toLedger(row, await ledgerAccounts(em, [ledgerId]));
}
