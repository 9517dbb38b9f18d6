import { currencies } from '@tally/currencies';
import {
  checkClientKey,
  checkMetadata,
  checkUuid,
  invalidArgument,
  notFound,
  ownerFor,
  TallyError,
  Violations,
  type Admission,
  type TenantScope,
} from '@tally/platform';
import type { LedgerDirectory } from '../internal/ledger-directory.js';
import { currencyNotEnabled } from '../internal/ledger-store.js';
import type { LedgersIntake } from '../internal/intake.js';

/**
 * SubmitTransaction(s), the synchronous half: everything that can be checked before the
 * operation is recorded, then recorded through the intake port. What is accepted here is applied
 * later by the worker (`apply.ts`), which checks again what may have changed meanwhile (funds, a
 * currency disabled).
 */

export type TransactionType = 'CREDIT' | 'DEBIT';

/** Most transactions one SubmitTransactions call may hold. */
export const MAX_TRANSACTIONS_PER_SUBMIT = 1_000;

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

interface CheckedTransaction {
  readonly ledgerId: string;
  readonly transactionId: string;
  readonly request: TransactionRequest;
}

type Checked = { readonly ok: true; readonly checked: CheckedTransaction } | { readonly ok: false; readonly error: TallyError };

/**
 * Checks and records one transaction or a batch: one admission per input, in order, each item
 * accepted or refused on its own. `fieldPrefix` names batch items in refusals
 * (`transactions[3].amount`).
 */
export async function submitTransactions<Operation>(
  directory: LedgerDirectory,
  intake: LedgersIntake<Operation>,
  inputs: readonly TransactionInput[],
  fieldPrefix: (index: number) => string,
  scope: TenantScope,
): Promise<Array<Admission<Operation>>> {
  if (inputs.length === 0 || inputs.length > MAX_TRANSACTIONS_PER_SUBMIT) {
    throw invalidArgument([{ field: 'transactions', description: `must hold 1 to ${MAX_TRANSACTIONS_PER_SUBMIT} transactions (got ${inputs.length})` }]);
  }
  const checked = await checkTransactions(directory, scope, inputs, fieldPrefix);
  const tenant = ownerFor(scope);
  const { origin } = scope;
  const passed = checked.flatMap((c) => (c.ok ? [{ kind: 'TRANSACTION' as const, ...c.checked, tenant, request: { ...c.checked.request }, origin }] : []));
  const accepted = passed.length === 0 ? [] : await intake.accept(passed);
  let next = 0;
  return checked.map((c): Admission<Operation> => (c.ok ? accepted[next++]! : c));
}

/** Field checks, pure. `prefix` names batch items' fields. */
export function checkTransactionFields(input: TransactionInput, prefix = ''): CheckedTransaction {
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
    request: { type: input.type!, amount: input.amount.toString(), currency: input.currency, metadata },
  };
}

/**
 * Fields first, then, from the ledger directory (one query for all the ledgers it does not know
 * yet), that each ledger exists and has the currency enabled.
 */
async function checkTransactions(
  directory: LedgerDirectory,
  scope: TenantScope,
  inputs: readonly TransactionInput[],
  prefixOf: (index: number) => string,
): Promise<Checked[]> {
  const checked = inputs.map((input, i): Checked => {
    try {
      return { ok: true, checked: checkTransactionFields(input, prefixOf(i)) };
    } catch (error) {
      if (error instanceof TallyError) return { ok: false, error };
      throw error;
    }
  });
  const ledgerIds = [...new Set(checked.flatMap((c) => (c.ok ? [c.checked.ledgerId] : [])))];
  if (ledgerIds.length === 0) return checked;
  const facts = await directory.visible(scope, ledgerIds);
  return checked.map((c): Checked => {
    if (!c.ok) return c;
    const { ledgerId, request } = c.checked;
    const ledger = facts.get(ledgerId);
    if (ledger === undefined) return { ok: false, error: notFound('ledger', ledgerId) };
    if (!ledger.enabled.has(request.currency)) return { ok: false, error: currencyNotEnabled(ledgerId, request.currency) };
    return c;
  });
}
