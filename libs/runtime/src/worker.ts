import type { ExchangeFacade } from '@tally/exchange';
import { parseTransferRequest, type Booking, type LedgersFacade } from '@tally/ledgers';
import { OperationsWorker, type ApplyOutcome, type Appliers, type OperationStep, type WorkerLimits } from '@tally/operations';
import type { Config, Logger } from '@tally/platform';
import type { Infrastructure } from './infrastructure.js';
import { transferBooking, transferOutcome } from './transfer.js';

/**
 * The worker's wiring: which module applies which kind of operation. The operations module
 * runs the partitions (and hands a transfer from one ledger's partition to the other's); the
 * ledgers module books the money; the exchange module locks the rate an exchange applies at.
 */
export function appliersFor(ledgers: LedgersFacade, exchange: ExchangeFacade): Appliers {
  return {
    TRANSACTION: (context, operations) => ledgers.applyTransactions(context, operations),
    // An exchange: rate locked, source debited into the FX account, target credited from it;
    // both legs in one booking, so they take effect together or not at all.
    async EXCHANGE(context, operations) {
      const locked = await exchange.lockRates(context.em, operations);
      const lockedAt = new Date();
      const bookings = operations.map((op, i): Booking => {
        const rate = locked[i]!;
        if (!rate.ok) return { refused: rate };
        return {
          operationId: op.id,
          transactionId: op.transactionId,
          legs: [
            { ledgerId: op.ledgerId, currency: rate.fromCurrency, delta: -rate.fromAmount, counterparty: 'FX' },
            { ledgerId: op.ledgerId, currency: rate.toCurrency, delta: rate.toAmount, counterparty: 'FX' },
          ],
        };
      });
      const booked = await ledgers.book(context, bookings);
      const bookedAt = new Date();
      return booked.map((result, i): ApplyOutcome => {
        const rateLocked = locked[i]!.ok;
        return { ...result, steps: exchangeSteps(rateLocked, result.ok, lockedAt, bookedAt) };
      });
    },
    // A transfer: one leg per stage, each in its own ledger's order, through TRANSIT (transfer.ts).
    async TRANSFER(context, operations) {
      const booked = await ledgers.book(
        context,
        operations.map((op) => transferBooking(op, parseTransferRequest(op.request))),
      );
      const at = new Date();
      return operations.map((op, i) => transferOutcome(op, booked[i]!, at));
    },
  };
}

/** RATE_LOCKED -> SOURCE_DEBITED -> TARGET_CREDITED -> COMPLETED, up to the step that failed. */
function exchangeSteps(rateLocked: boolean, booked: boolean, lockedAt: Date, bookedAt: Date): OperationStep[] {
  if (!rateLocked) return [{ name: 'RATE_LOCKED', status: 'FAILED', time: lockedAt }];
  const locked: OperationStep = { name: 'RATE_LOCKED', status: 'COMPLETED', time: lockedAt };
  if (!booked) return [locked, { name: 'SOURCE_DEBITED', status: 'FAILED', time: bookedAt }];
  return [
    locked,
    { name: 'SOURCE_DEBITED', status: 'COMPLETED', time: bookedAt },
    { name: 'TARGET_CREDITED', status: 'COMPLETED', time: bookedAt },
    { name: 'COMPLETED', status: 'COMPLETED', time: bookedAt },
  ];
}

/** Starts applying operations: takes this process's share of the partitions and keeps it. */
export function startWorker(
  infra: Infrastructure,
  config: Config,
  logger: Logger,
  limits: Partial<WorkerLimits> = {},
): OperationsWorker {
  const worker = new OperationsWorker({
    db: infra.db,
    redis: infra.redis,
    redisUrl: config.redisUrl,
    queues: infra.queues,
    partitions: config.partitions,
    appliers: appliersFor(infra.ledgers, infra.exchange),
    logger,
    limits: { retentionMs: config.retentionHours * 3_600_000, ...limits },
  });
  worker.start();
  return worker;
}
