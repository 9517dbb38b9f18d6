import type { Booking, BookingResult, LedgersFacade } from '@tally/ledgers';
import type { Applier, ApplyOutcome, OperationStep, OperationToApply } from '@tally/platform';
import { isRateLocked, type LockProgress } from './prepare.js';

/**
 * SubmitExchange, the worker's second commit: SOURCE_DEBITED, TARGET_CREDITED, COMPLETED, both
 * legs against the FX accounts in one booking (the ledgers module's), at the locked rate, in the
 * ledger's order; or FAILED with no leg. Watchers see the rate locked as a version of its own,
 * then both legs together: no version ever shows one without the other.
 */
export function exchangeApplier(ledgers: Pick<LedgersFacade, 'book'>): Applier {
  return async (context, operations) => {
    const booked = await ledgers.book(context, operations.map(exchangeBooking));
    const at = new Date();
    return booked.map((result, i): ApplyOutcome => ({ ...result, steps: bookedSteps(operations[i]!, result, at) }));
  };
}

function exchangeBooking(op: OperationToApply): Booking {
  if (!isRateLocked(op)) throw new Error(`exchange ${op.id} reached the applier without its rate locked`);
  const progress = op.progress as LockProgress;
  if ('rateRefused' in progress) return { refused: { ok: false, error: { ...progress.rateRefused, details: { ...progress.rateRefused.details } } } };
  const { fromCurrency, toCurrency, fromAmount, toAmount } = progress.rate;
  return {
    operationId: op.id,
    transactionId: op.transactionId,
    legs: [
      { ledgerId: op.ledgerId, currency: fromCurrency, delta: -BigInt(fromAmount), counterparty: 'FX' },
      { ledgerId: op.ledgerId, currency: toCurrency, delta: BigInt(toAmount), counterparty: 'FX' },
    ],
  };
}

/** After RATE_LOCKED: nothing more if the rate was refused; else the legs, up to the one refused. */
function bookedSteps(op: OperationToApply, result: BookingResult, at: Date): OperationStep[] {
  if ('rateRefused' in op.progress) return [];
  if (!result.ok) return [{ name: 'SOURCE_DEBITED', status: 'FAILED', time: at }];
  return ['SOURCE_DEBITED', 'TARGET_CREDITED', 'COMPLETED'].map((name) => ({ name, status: 'COMPLETED', time: at }));
}
