import type { LedgersFacade } from '@tally/ledgers';
import { OperationsWorker, type Appliers, type WorkerLimits } from '@tally/operations';
import type { Config, Logger } from '@tally/platform';
import type { Infrastructure } from './infrastructure.js';

/**
 * The worker's wiring: which module applies which kind of operation. The operations module
 * runs the partitions; the ledgers module books the money.
 */
export function appliersFor(ledgers: LedgersFacade): Appliers {
  return {
    TRANSACTION: (context, operations) => ledgers.applyTransactions(context, operations),
  };
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
    appliers: appliersFor(infra.ledgers),
    logger,
    limits: { retentionMs: config.retentionHours * 3_600_000, ...limits },
  });
  worker.start();
  return worker;
}
