import type { EntityManager } from '@mikro-orm/postgresql';
import { notFound } from '@tally/platform';
import { currencyNotEnabled, loadLedger, lockLedgerForChange } from './ledger-store.js';
import { AccountEntity } from './schema.js';
import type { Ledger } from './types.js';
import { validateLedgerCurrency } from './validation.js';

/**
 * Disables a currency on a ledger: its account stays, balance and entries included (GetBalances
 * still lists it), but nothing new may be booked on it except money returning to it (a
 * transfer's compensating credit). Already disabled: nothing changes, and the call succeeds,
 * so a retry is safe. Never enabled: refused, there is nothing to disable. The ledger row is
 * locked as EnableCurrency locks it (see lockLedgerForChange), so enables and disables of one ledger run one after the
 * other; the worker, which locks the account row, sees the change from its next batch on.
 */
export async function disableCurrency(em: EntityManager, ledgerId: string, code: string): Promise<Ledger> {
  const valid = validateLedgerCurrency(ledgerId, code);
  await em.transactional(async (tx) => {
    const ledger = await lockLedgerForChange(tx, valid.ledgerId);
    if (!ledger) throw notFound('ledger', valid.ledgerId);
    const account = await tx.findOne(AccountEntity, { ledgerId: valid.ledgerId, kind: 'LEDGER', currency: valid.currency.code });
    if (!account) throw currencyNotEnabled(valid.ledgerId, valid.currency.code);
    if (!account.enabled) return;
    const now = new Date();
    account.enabled = false;
    account.updateTime = now;
    ledger.updateTime = now;
  });
  return loadLedger(em.fork(), valid.ledgerId);
}
