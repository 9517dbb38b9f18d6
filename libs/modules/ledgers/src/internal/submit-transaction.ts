import type { EntityManager } from '@mikro-orm/postgresql';
import { currencies } from '@tally/currencies';
import { checkClientKey, checkMetadata, checkUuid, notFound, TallyError, Violations } from '@tally/platform';
import { currencyNotEnabled } from './ledger-store.js';
import { AccountEntity, LedgerEntity } from './schema.js';

/**
 * The synchronous half of SubmitTransaction: everything that can be checked before the
 * operation is recorded. What is accepted here is applied later by the worker, which checks
 * again what may have changed meanwhile (funds, a currency disabled).
 */

export type TransactionType = 'CREDIT' | 'DEBIT';

export interface TransactionInput {
  readonly ledgerId: string;
  readonly transactionId: string;
  /** `undefined` when the client sent no type or one this version does not know. */
  readonly type: TransactionType | undefined;
  readonly amount: bigint;
  readonly currency: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The request as the operation records it: JSON, canonical (fixed key order, sorted metadata). */
export interface TransactionRequest {
  readonly type: TransactionType;
  readonly amount: string;
  readonly currency: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface PreparedTransaction {
  readonly ledgerId: string;
  readonly transactionId: string;
  readonly request: TransactionRequest;
}

export type Prepared = { readonly ok: true; readonly prepared: PreparedTransaction } | { readonly ok: false; readonly error: TallyError };

/** Field checks, pure. `field` prefixes names for batch items (`transactions[3].amount`). */
export function checkTransactionFields(input: TransactionInput, prefix = ''): PreparedTransaction {
  const v = new Violations();
  const f = (name: string) => `${prefix}${name}`;
  checkUuid(v, f('ledger_id'), input.ledgerId);
  checkClientKey(v, f('transaction_id'), input.transactionId);
  v.check(input.type !== undefined, f('type'), 'must be TRANSACTION_TYPE_CREDIT or TRANSACTION_TYPE_DEBIT');
  currencies.checkPositiveAmount(v, f('amount'), input.amount);
  currencies.checkCurrencyCode(v, f('currency'), input.currency);
  const metadata = checkMetadata(v, f('metadata'), input.metadata);
  v.throwIfAny();
  return {
    ledgerId: input.ledgerId,
    transactionId: input.transactionId,
    request: {
      type: input.type!,
      amount: input.amount.toString(),
      currency: input.currency,
      metadata,
    },
  };
}

/**
 * Checks a batch: fields first, then, with one query for all of them, that each ledger exists
 * and has the currency enabled. Each item gets its own outcome.
 */
export async function prepareTransactions(
  em: EntityManager,
  inputs: readonly TransactionInput[],
  prefixOf: (index: number) => string = () => '',
): Promise<Prepared[]> {
  const checked = inputs.map((input, i): Prepared => {
    try {
      return { ok: true, prepared: checkTransactionFields(input, prefixOf(i)) };
    } catch (error) {
      if (error instanceof TallyError) return { ok: false, error };
      throw error;
    }
  });
  const ledgerIds = [...new Set(checked.flatMap((c) => (c.ok ? [c.prepared.ledgerId] : [])))];
  if (ledgerIds.length === 0) return checked;
  const [ledgers, accounts] = await Promise.all([
    em.find(LedgerEntity, { id: { $in: ledgerIds } }, { fields: ['id'] }),
    em.find(AccountEntity, { ledgerId: { $in: ledgerIds }, kind: 'LEDGER', enabled: true }, { fields: ['ledgerId', 'currency'] }),
  ]);
  const known = new Set(ledgers.map((l) => l.id));
  const enabled = new Set(accounts.map((a) => `${a.ledgerId}/${a.currency}`));
  return checked.map((c): Prepared => {
    if (!c.ok) return c;
    const { ledgerId, request } = c.prepared;
    if (!known.has(ledgerId)) return { ok: false, error: notFound('ledger', ledgerId) };
    if (!enabled.has(`${ledgerId}/${request.currency}`)) {
      return { ok: false, error: currencyNotEnabled(ledgerId, request.currency) };
    }
    return c;
  });
}
