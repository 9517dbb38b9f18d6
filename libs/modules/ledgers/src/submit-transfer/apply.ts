import { currencies } from '@tally/currencies';
import { isUuid, type Applier, type ApplyOutcome, type OperationError, type OperationStep, type OperationToApply } from '@tally/platform';
import { book } from '../internal/booking/book.js';
import type { Booking, BookingResult, Leg } from '../internal/booking/decide.js';
import { isStoredAmount, isStringRecord, malformedRequest } from '../internal/stored-requests.js';
import type { TransferRequest } from './check.js';

/**
 * SubmitTransfer, the asynchronous half: a transfer from one ledger to another, in stages, each applied in its own ledger's order
 * (the two ledgers may sit in different partitions):
 *
 *   DEBIT    source's partition: source -> TRANSIT          then hand off to the target
 *   CREDIT   target's partition: TRANSIT -> target          then COMPLETED
 *            refused (currency disabled since, balance out of range):
 *                                                           hand back to the source
 *   RESTORE  source's partition: TRANSIT -> source          then FAILED with the credit's reason
 *
 * Each stage commits its entries with the operation's new state, so the money is always in
 * exactly one place: the source, TRANSIT (while in flight), or, once terminal, the target or
 * the source again. Every currency sums to zero at every moment.
 *
 * `transferBooking` and `transferOutcome` are pure; `applyTransfers` books what the first asks
 * and hands the result to the second.
 */

export const TRANSFER_STAGE = { DEBIT: 0, CREDIT: 1, RESTORE: 2 } as const;

export const applyTransfers: Applier = async (context, operations) => {
  const booked = await book(
    context,
    operations.map((op) => transferBooking(op, parseTransferRequest(op.request))),
  );
  const at = new Date();
  return operations.map((op, i) => transferOutcome(op, booked[i]!, at));
};

/** What the CREDIT stage hands to RESTORE: why the money could not arrive. */
interface RestoreProgress {
  readonly refusal: OperationError;
}

/** The legs this stage books; `request` is undefined when the stored request is not a transfer. */
export function transferBooking(op: OperationToApply, request: TransferRequest | undefined): Booking {
  if (!request || op.toLedgerId !== request.toLedgerId) {
    if (op.stage !== TRANSFER_STAGE.DEBIT) throw new Error(`transfer ${op.id} at stage ${op.stage} holds a request this version cannot read`);
    return { refused: malformedRequest(op) };
  }
  const amount = BigInt(request.amount);
  const leg = (): Leg => {
    switch (op.stage) {
      case TRANSFER_STAGE.DEBIT:
        return { ledgerId: op.ledgerId, currency: request.currency, delta: -amount, counterparty: 'TRANSIT' };
      case TRANSFER_STAGE.CREDIT:
        return { ledgerId: request.toLedgerId, currency: request.currency, delta: amount, counterparty: 'TRANSIT' };
      case TRANSFER_STAGE.RESTORE:
        return { ledgerId: op.ledgerId, currency: request.currency, delta: amount, counterparty: 'TRANSIT', restore: true };
      default:
        throw new Error(`transfer ${op.id} has no stage ${op.stage}`);
    }
  };
  return { operationId: op.id, transactionId: op.transactionId, legs: [leg()] };
}

/** The operation's outcome for this stage, given what booking it did. */
export function transferOutcome(op: OperationToApply, booked: BookingResult, at: Date): ApplyOutcome {
  const step = (name: string, ok: boolean): OperationStep => ({ name, status: ok ? 'COMPLETED' : 'FAILED', time: at });
  switch (op.stage) {
    case TRANSFER_STAGE.DEBIT:
      if (!booked.ok) return { ...booked, steps: [step('SOURCE_DEBITED', false)] };
      return {
        ok: true,
        balanceChanges: booked.balanceChanges,
        steps: [step('SOURCE_DEBITED', true)],
        handOff: { stage: TRANSFER_STAGE.CREDIT, ledgerId: op.toLedgerId!, progress: {} },
      };
    case TRANSFER_STAGE.CREDIT:
      if (booked.ok) return { ok: true, balanceChanges: booked.balanceChanges, steps: [step('TARGET_CREDITED', true), step('COMPLETED', true)] };
      return {
        ok: true,
        balanceChanges: [],
        steps: [step('TARGET_CREDITED', false)],
        handOff: { stage: TRANSFER_STAGE.RESTORE, ledgerId: op.ledgerId, progress: { refusal: booked.error } satisfies RestoreProgress },
      };
    case TRANSFER_STAGE.RESTORE: {
      // A restoring credit is refused only if the source balance would leave int64: a bug or an
      // absurd balance. Throwing retries it, then leaves it FAILED RETRIES_EXHAUSTED, money still
      // in TRANSIT, for an operator.
      if (!booked.ok) throw new Error(`transfer ${op.id}: the restoring credit was refused: ${booked.error.message}`);
      const { refusal } = op.progress as unknown as RestoreProgress;
      return {
        ok: false,
        error: {
          code: refusal.code,
          message: `${refusal.message}; the transfer was returned to ledger ${op.ledgerId}`,
          details: { ...refusal.details, restored_to: op.ledgerId },
        },
        balanceChanges: booked.balanceChanges,
        steps: [step('SOURCE_RESTORED', true)],
      };
    }
    default:
      throw new Error(`transfer ${op.id} has no stage ${op.stage}`);
  }
}

/** Parses a stored transfer request; `undefined` when it is not one (malformed). Pure. */
export function parseTransferRequest(raw: Readonly<Record<string, unknown>>): TransferRequest | undefined {
  const { toLedgerId, currency, amount, metadata = {} } = raw;
  if (typeof toLedgerId !== 'string' || !isUuid(toLedgerId)) return undefined;
  if (typeof currency !== 'string' || !currencies.find(currency)) return undefined;
  if (!isStoredAmount(amount)) return undefined;
  if (!isStringRecord(metadata)) return undefined;
  return { toLedgerId, currency, amount, metadata };
}
