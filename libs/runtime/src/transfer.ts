import type { Booking, ApplyResult, Leg, TransferRequest } from '@tally/ledgers';
import type { ApplyOutcome, ClaimedOperation, OperationError, OperationStep } from '@tally/operations';

/**
 * A transfer from one ledger to another, in stages, each applied in its own ledger's order
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
 * Pure: the worker books what `transferBooking` asks and hands the result to `transferOutcome`.
 */

export const TRANSFER_STAGE = { DEBIT: 0, CREDIT: 1, RESTORE: 2 } as const;

/** What the CREDIT stage hands to RESTORE: why the money could not arrive. */
interface RestoreProgress {
  readonly refusal: OperationError;
}

/** The legs this stage books; `request` is undefined when the stored request is not a transfer. */
export function transferBooking(op: ClaimedOperation, request: TransferRequest | undefined): Booking {
  if (!request || op.toLedgerId !== request.toLedgerId) {
    if (op.stage !== TRANSFER_STAGE.DEBIT) throw new Error(`transfer ${op.id} at stage ${op.stage} holds a request this version cannot read`);
    return {
      refused: {
        ok: false,
        error: {
          code: 'MALFORMED_REQUEST',
          message: `operation ${op.id} holds a request this version cannot apply`,
          details: { request: JSON.stringify(op.request).slice(0, 200) },
        },
      },
    };
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
export function transferOutcome(op: ClaimedOperation, booked: ApplyResult, at: Date): ApplyOutcome {
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
