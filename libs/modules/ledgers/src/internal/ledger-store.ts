import type { EntityManager } from '@mikro-orm/postgresql';
import { failedPrecondition, notFound, type TallyError, type TenantScope } from '@tally/platform';
import type { LedgerDirectory } from './ledger-directory.js';
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

/** The refusal of anything naming a currency the ledger does not have enabled (never, or not any more). */
export function currencyNotEnabled(ledgerId: string, currency: string): TallyError {
  return failedPrecondition('CURRENCY_NOT_ENABLED', `${currency} is not enabled on ledger ${ledgerId}`, { ledger_id: ledgerId, currency });
}

/**
 * NOT_FOUND naming the first ledger that does not exist or that `scope` may not see (another
 * tenant's ledger is answered as if it did not exist); else FAILED_PRECONDITION naming the
 * first ledger and currency not enabled on it. From the ledger directory.
 */
export async function requireCurrencies(
  directory: LedgerDirectory,
  scope: TenantScope,
  ledgerIds: readonly string[],
  codes: readonly string[],
): Promise<void> {
  const facts = await directory.visible(scope, ledgerIds);
  for (const ledgerId of ledgerIds) {
    const ledger = facts.get(ledgerId);
    if (ledger === undefined) throw notFound('ledger', ledgerId);
    const code = codes.find((c) => !ledger.enabled.has(c));
    if (code !== undefined) throw currencyNotEnabled(ledgerId, code);
  }
}

/**
 * Locks a ledger row against concurrent changes of its currencies, and returns it (null when
 * there is no such ledger). FOR NO KEY UPDATE, not FOR UPDATE: the worker, holding the ledger's
 * account rows, re-checks their foreign key to the ledger (a KEY SHARE lock) when it updates a
 * balance twice in one batch; FOR UPDATE would block that check while waiting for the very
 * account rows the worker holds: a deadlock.
 */
export async function lockLedgerForChange(em: EntityManager, ledgerId: string): Promise<LedgerRow | null> {
  const [locked] = await em.execute<Array<{ id: string }>>(`select id from ledgers.ledger where id = ? for no key update`, [ledgerId]);
  return locked ? em.findOne(LedgerEntity, { id: ledgerId }) : null;
}
