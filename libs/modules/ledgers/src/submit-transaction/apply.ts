import { currencies } from '@tally/currencies';
import type { Applier, OperationToApply } from '@tally/platform';
import { book } from '../internal/booking/book.js';
import type { Booking } from '../internal/booking/decide.js';
import { isStoredAmount, isStringRecord, malformedRequest } from '../internal/stored-requests.js';
import type { TransactionRequest } from './check.js';

/**
 * SubmitTransaction, the asynchronous half, for a whole run of accepted credits and debits at
 * once, in the worker's transaction: each is one posting between the ledger's account and the
 * per-currency EXTERNAL system account (money entering or leaving the books). Funds, a currency
 * disabled since and the int64 range are decided by the booking (internal/booking).
 */
export const applyTransactions: Applier = (context, operations) => book(context, operations.map(transactionBooking));

function transactionBooking(op: OperationToApply): Booking {
  const request = parseTransactionRequest(op.request);
  if (!request) return { refused: malformedRequest(op) };
  const amount = BigInt(request.amount);
  return {
    operationId: op.id,
    transactionId: op.transactionId,
    legs: [{ ledgerId: op.ledgerId, currency: request.currency, delta: request.type === 'CREDIT' ? amount : -amount, counterparty: 'EXTERNAL' }],
  };
}

/** The request as accepted, or `undefined` when it is not one. Pure. */
function parseTransactionRequest(raw: Readonly<Record<string, unknown>>): TransactionRequest | undefined {
  const { type, amount, currency, metadata } = raw as Partial<TransactionRequest>;
  if ((type !== 'CREDIT' && type !== 'DEBIT') || !isStoredAmount(amount)) return undefined;
  if (typeof currency !== 'string' || !currencies.find(currency)) return undefined;
  if (metadata !== undefined && !isStringRecord(metadata)) return undefined;
  return { type, amount, currency, metadata: metadata ?? {} };
}
