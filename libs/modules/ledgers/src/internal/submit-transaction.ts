import { currencies } from '@tally/currencies';
import { checkClientKey, checkMetadata, checkUuid, notFound, TallyError, Violations } from '@tally/platform';
import type { LedgerDirectory } from './ledger-directory.js';
import { currencyNotEnabled } from './ledger-store.js';

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
 * Checks a batch: fields first, then, from the ledger directory (one query for all the ledgers
 * it does not know yet), that each ledger exists and has the currency enabled. Each item gets
 * its own outcome.
 */
export async function prepareTransactions(
  directory: LedgerDirectory,
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
  const facts = await directory.facts(ledgerIds);
  return checked.map((c): Prepared => {
    if (!c.ok) return c;
    const { ledgerId, request } = c.prepared;
    const ledger = facts.get(ledgerId);
    if (ledger === undefined) return { ok: false, error: notFound('ledger', ledgerId) };
    if (!ledger.enabled.has(request.currency)) return { ok: false, error: currencyNotEnabled(ledgerId, request.currency) };
    return c;
  });
}
