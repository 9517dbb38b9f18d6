import type { EntityManager } from '@mikro-orm/postgresql';
import { failedPrecondition, notFound } from '@tally/platform';
import { loadLedger, lockLedgerForChange } from './ledger-store.js';
import { AccountEntity } from './schema.js';
import type { Ledger } from './types.js';
import { MAX_CURRENCIES_PER_LEDGER, validateLedgerCurrency } from './validation.js';

/**
 * Enables a currency on a ledger with a zero balance. Already enabled: nothing changes, and
 * the call succeeds, so a retry is safe. The ledger row is locked so concurrent enables of
 * one ledger run one after the other.
 */
export async function enableCurrency(em: EntityManager, ledgerId: string, code: string): Promise<Ledger> {
  const valid = validateLedgerCurrency(ledgerId, code);
  await em.transactional(async (tx) => {
    const ledger = await lockLedgerForChange(tx, valid.ledgerId);
    if (!ledger) throw notFound('ledger', valid.ledgerId);
    const accounts = await tx.find(AccountEntity, { ledgerId: valid.ledgerId, kind: 'LEDGER' });
    const existing = accounts.find((a) => a.currency === valid.currency.code);
    const now = new Date();
    if (existing?.enabled) return;
    if (existing) {
      existing.enabled = true;
      existing.updateTime = now;
    } else {
      if (accounts.length >= MAX_CURRENCIES_PER_LEDGER) {
        throw failedPrecondition(
          'TOO_MANY_CURRENCIES',
          `ledger ${valid.ledgerId} already has the maximum of ${MAX_CURRENCIES_PER_LEDGER} currencies`,
          { ledger_id: valid.ledgerId, max_currencies: String(MAX_CURRENCIES_PER_LEDGER) },
        );
      }
      tx.create(AccountEntity, {
        ledgerId: valid.ledgerId,
        kind: 'LEDGER',
        currency: valid.currency.code,
        balance: 0n,
        enabled: true,
        shard: 0,
        createTime: now,
        updateTime: now,
      });
    }
    ledger.updateTime = now;
  });
  return loadLedger(em.fork(), valid.ledgerId);
}
