import type { ExchangeFacade } from '@tally/exchange';
import { parseTransferRequest, type LedgersFacade } from '@tally/ledgers';
import { OperationsWorker, type Appliers, type Preparers, type WorkerLimits } from '@tally/operations';
import type { Config, Logger } from '@tally/platform';
import type { Infrastructure } from './infrastructure.js';
import { exchangeApplier, exchangePreparer } from './exchange.js';
import { transferBooking, transferOutcome } from './transfer.js';

/**
 * The worker's wiring: which module applies which kind of operation. The operations module
 * runs the partitions (and hands a transfer from one ledger's partition to the other's); the
 * ledgers module books the money; the exchange module locks the rate an exchange applies at,
 * before it is applied (preparersFor).
 */
export function appliersFor(ledgers: LedgersFacade): Appliers {
  return {
    TRANSACTION: (context, operations) => ledgers.applyTransactions(context, operations),
    // An exchange: rate locked first, then both legs together (exchange.ts).
    EXCHANGE: exchangeApplier(ledgers),
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

/** What some kinds settle before they are applied, in a commit of their own: an exchange's rate. */
export function preparersFor(exchange: ExchangeFacade): Preparers {
  return { EXCHANGE: exchangePreparer(exchange) };
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
    feed: infra.feed,
    redisUrl: config.redisUrl,
    queues: infra.queues,
    partitions: config.partitions,
    appliers: appliersFor(infra.ledgers),
    preparers: preparersFor(infra.exchange),
    logger,
    limits: { retentionMs: config.retentionHours * 3_600_000, ...limits },
  });
  worker.start();
  infra.useLocalWorker(worker);
  return worker;
}
