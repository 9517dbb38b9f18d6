import type { ExchangeFacade } from '@tally/exchange';
import type { ApplyResult, Booking, LedgersFacade } from '@tally/ledgers';
import type { Applier, ApplyOutcome, ClaimedOperation, OperationError, OperationStep, Preparation, Preparer } from '@tally/operations';

/**
 * An exchange on one ledger, in two commits:
 *
 *   prepare  RATE_LOCKED: the quote's rate (the quote is used up) or the current one (the rate
 *            provider may be asked), in a transaction holding no balance, recorded in the
 *            operation's progress; or RATE_LOCKED FAILED with the reason (no recent enough
 *            rate, quote expired or used).
 *   apply    SOURCE_DEBITED, TARGET_CREDITED, COMPLETED: both legs against the FX accounts in
 *            one booking, at the locked rate, in the ledger's order; or FAILED with no leg.
 *
 * Watchers see the rate locked as a version of its own, then both legs together: they take
 * effect together or not at all, so no version ever shows one without the other.
 */

/** What the prepare step leaves in the operation's progress (amounts as decimal strings). */
type LockProgress =
  | { readonly rate: { fromCurrency: string; toCurrency: string; fromAmount: string; toAmount: string; rate: string } }
  | { readonly rateRefused: OperationError };

const isLocked = (op: ClaimedOperation): boolean => 'rate' in op.progress || 'rateRefused' in op.progress;

export function exchangePreparer(exchange: ExchangeFacade): Preparer {
  return async (tx, operations) => {
    const toLock = operations.filter((op) => !isLocked(op));
    const locked = await exchange.lockRates(tx, toLock);
    const at = new Date();
    return operations.map((op): Preparation | null => {
      const i = toLock.indexOf(op);
      if (i < 0) return null;
      const result = locked[i]!;
      const progress: LockProgress = result.ok
        ? {
            rate: {
              fromCurrency: result.fromCurrency,
              toCurrency: result.toCurrency,
              fromAmount: result.fromAmount.toString(),
              toAmount: result.toAmount.toString(),
              rate: result.rate,
            },
          }
        : { rateRefused: result.error };
      return { steps: [{ name: 'RATE_LOCKED', status: result.ok ? 'COMPLETED' : 'FAILED', time: at }], progress };
    });
  };
}

export function exchangeApplier(ledgers: LedgersFacade): Applier {
  return async (context, operations) => {
    const bookings = operations.map((op): Booking => {
      if (!isLocked(op)) throw new Error(`exchange ${op.id} reached the applier without its rate locked`);
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
    });
    const booked = await ledgers.book(context, bookings);
    const at = new Date();
    return booked.map((result, i): ApplyOutcome => ({ ...result, steps: bookedSteps(operations[i]!, result, at) }));
  };
}

/** After RATE_LOCKED: nothing more if the rate was refused; else the legs, up to the one refused. */
function bookedSteps(op: ClaimedOperation, result: ApplyResult, at: Date): OperationStep[] {
  if ('rateRefused' in op.progress) return [];
  if (!result.ok) return [{ name: 'SOURCE_DEBITED', status: 'FAILED', time: at }];
  return ['SOURCE_DEBITED', 'TARGET_CREDITED', 'COMPLETED'].map((name) => ({ name, status: 'COMPLETED', time: at }));
}
