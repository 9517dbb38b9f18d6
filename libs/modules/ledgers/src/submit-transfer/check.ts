import { currencies } from '@tally/currencies';
import { checkClientKey, checkMetadata, checkUuid, ownerFor, Violations, type TenantScope } from '@tally/platform';
import type { LedgersIntake } from '../internal/intake.js';
import type { LedgerDirectory } from '../internal/ledger-directory.js';
import { requireCurrencies } from '../internal/ledger-store.js';

/**
 * SubmitTransfer, the synchronous half: everything that can be checked before the operation is
 * recorded, then recorded through the intake port, on the source ledger (its transaction id is
 * unique there; it is listed on both). The legs are booked later (`apply.ts`), each in its own
 * ledger's order, and the worker checks again what may have changed meanwhile (funds, a
 * currency disabled on the target).
 */

export interface TransferInput {
  readonly fromLedgerId: string;
  readonly toLedgerId: string;
  readonly transactionId: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The canonical, JSON-safe request stored with the operation (amount as a decimal string). */
export interface TransferRequest {
  readonly toLedgerId: string;
  readonly currency: string;
  readonly amount: string;
  readonly metadata: Readonly<Record<string, string>>;
}

interface CheckedTransfer {
  readonly fromLedgerId: string;
  readonly toLedgerId: string;
  readonly transactionId: string;
  readonly request: TransferRequest;
}

/** Field checks, pure, naming every bad field as SubmitTransferRequest names it. */
export function checkTransferFields(input: TransferInput): CheckedTransfer {
  const v = new Violations();
  const fromOk = checkUuid(v, 'from_ledger_id', input.fromLedgerId);
  if (checkUuid(v, 'to_ledger_id', input.toLedgerId) && fromOk) {
    v.check(input.toLedgerId !== input.fromLedgerId, 'to_ledger_id', 'must differ from from_ledger_id');
  }
  checkClientKey(v, 'transaction_id', input.transactionId);
  currencies.checkCurrencyCode(v, 'currency', input.currency);
  currencies.checkPositiveAmount(v, 'amount', input.amount);
  const metadata = checkMetadata(v, 'metadata', input.metadata);
  v.throwIfAny();
  return {
    fromLedgerId: input.fromLedgerId,
    toLedgerId: input.toLedgerId,
    transactionId: input.transactionId,
    // Fixed key order and sorted metadata: the operation hashes this to spot a reused id.
    request: { toLedgerId: input.toLedgerId, currency: input.currency, amount: input.amount.toString(), metadata },
  };
}

/**
 * Checks a transfer, fields first, then that both ledgers exist (NOT_FOUND naming the missing
 * one, the source first) and have the currency enabled (FAILED_PRECONDITION
 * CURRENCY_NOT_ENABLED naming the ledger), and records it. Throws the refusal.
 */
export async function submitTransfer<Operation>(
  directory: LedgerDirectory,
  intake: LedgersIntake<Operation>,
  input: TransferInput,
  scope: TenantScope,
): Promise<Operation> {
  const checked = checkTransferFields(input);
  // Both ledgers in the caller's tenant: a transfer to another tenant's ledger finds no ledger.
  await requireCurrencies(directory, scope, [checked.fromLedgerId, checked.toLedgerId], [checked.request.currency]);
  const [admission] = await intake.accept([
    {
      kind: 'TRANSFER',
      ledgerId: checked.fromLedgerId,
      toLedgerId: checked.toLedgerId,
      transactionId: checked.transactionId,
      tenant: ownerFor(scope),
      request: { ...checked.request },
      origin: scope.origin,
    },
  ]);
  if (!admission!.ok) throw admission!.error;
  return admission!.operation;
}
