import type { ExchangeFacade } from '@tally/exchange';
import type { LedgersFacade } from '@tally/ledgers';
import type { Appliers, OperationsWorker, Preparers, WorkerLimits } from '@tally/operations';
import type { Config } from '@tally/platform';
import type { Infrastructure } from './infrastructure.js';

/**
 * The worker's wiring: which module applies which kind of operation. The operations module runs
 * the partitions (and hands a transfer from one ledger's partition to the other's); each kind's
 * owner applies it: ledgers the credits, debits and transfers, exchange its exchanges (their
 * rate locked first, by its preparer).
 */
export function appliersFor(ledgers: Pick<LedgersFacade, 'appliers'>, exchange: Pick<ExchangeFacade, 'applier'>): Appliers {
  return { ...ledgers.appliers, EXCHANGE: exchange.applier };
}

/** What some kinds settle before they are applied, in a commit of their own: an exchange's rate. */
export function preparersFor(exchange: Pick<ExchangeFacade, 'preparer'>): Preparers {
  return { EXCHANGE: exchange.preparer };
}

/** Starts applying operations: takes this process's share of the partitions and keeps it. */
export function startWorker(infra: Infrastructure, config: Config, limits: Partial<WorkerLimits> = {}): OperationsWorker {
  return infra.operationsModule.startWorker({
    appliers: appliersFor(infra.ledgers, infra.exchange),
    preparers: preparersFor(infra.exchange),
    limits: { retentionMs: config.retentionHours * 3_600_000, ...limits },
  });
}
