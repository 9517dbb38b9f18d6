import { currencies, money } from '@tally/currencies';
import { checkClientKey, checkMetadata, checkUuid, isUuid, Violations } from '@tally/platform';
import type { LedgerDirectory } from './ledger-directory.js';
import { requireCurrencies } from './ledger-store.js';

/**
 * The synchronous half of SubmitTransfer: everything that can be checked before the operation
 * is recorded. The legs are booked later, each in its own ledger's order, and the worker checks
 * again what may have changed meanwhile (funds, a currency disabled on the target).
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

export interface PreparedTransfer {
  readonly fromLedgerId: string;
  readonly toLedgerId: string;
  readonly transactionId: string;
  readonly request: TransferRequest;
}

/** Field checks, pure, naming every bad field as SubmitTransferRequest names it. */
export function checkTransferFields(input: TransferInput): PreparedTransfer {
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
 * Checks a transfer: fields first, then that both ledgers exist (NOT_FOUND naming the missing
 * one, the source first) and have the currency enabled (FAILED_PRECONDITION
 * CURRENCY_NOT_ENABLED naming the ledger).
 */
export async function prepareTransfer(directory: LedgerDirectory, input: TransferInput): Promise<PreparedTransfer> {
  const prepared = checkTransferFields(input);
  await requireCurrencies(directory, [prepared.fromLedgerId, prepared.toLedgerId], [prepared.request.currency]);
  return prepared;
}

/** Parses a stored transfer request; `undefined` when it is not one (malformed). Pure. */
export function parseTransferRequest(raw: Readonly<Record<string, unknown>>): TransferRequest | undefined {
  const { toLedgerId, currency, amount, metadata = {} } = raw;
  if (typeof toLedgerId !== 'string' || !isUuid(toLedgerId)) return undefined;
  if (typeof currency !== 'string' || !currencies.find(currency)) return undefined;
  if (typeof amount !== 'string' || !/^[1-9]\d{0,18}$/.test(amount) || !money.isInt64(BigInt(amount))) return undefined;
  if (!isStringRecord(metadata)) return undefined;
  return { toLedgerId, currency, amount, metadata };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((x) => typeof x === 'string');
}
