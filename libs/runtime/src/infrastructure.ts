import { createExchangeFacade, type ExchangeFacade } from '@tally/exchange';
import { createLedgersFacade, type LedgersFacade } from '@tally/ledgers';
import { createOperationsFacade, PartitionQueues, type OperationsFacade } from '@tally/operations';
import { connectRedis, createRedis, type Config, type Database, type Logger, type Redis } from '@tally/platform';
import { prepareDatabase } from './database.js';

/** Five failures in a row open the rate provider's circuit for ten seconds. */
const RATE_PROVIDER_BREAKER = { failureThreshold: 5, openMs: 10_000 } as const;

/** What every Tally process opens first, whatever it runs: storage, queues, module facades. */
export interface Infrastructure {
  readonly db: Database;
  readonly redis: Redis;
  readonly queues: PartitionQueues;
  readonly ledgers: LedgersFacade;
  readonly operations: OperationsFacade;
  readonly exchange: ExchangeFacade;
  close(): Promise<void>;
}

export async function openInfrastructure(config: Config, logger: Logger): Promise<Infrastructure> {
  const db = await prepareDatabase(config.databaseUrl, logger);
  const redis = createRedis(config.redisUrl, logger, config.role);
  await connectRedis(redis, logger);
  const queues = new PartitionQueues(config.redisUrl, logger);
  return {
    db,
    redis,
    queues,
    ledgers: createLedgersFacade(db),
    operations: createOperationsFacade({ db, redis, queues, partitions: config.partitions, logger }),
    exchange: createExchangeFacade({
      db,
      redis,
      logger,
      quoteTtlMs: config.quoteTtlMs,
      rates: {
        providerUrl: config.ratesUrl,
        timeoutMs: config.ratesTimeoutMs,
        cacheTtlMs: config.ratesCacheTtlMs,
        maxStalenessMs: config.ratesMaxStalenessMs,
        breaker: RATE_PROVIDER_BREAKER,
      },
    }),
    async close() {
      await queues.close();
      redis.disconnect();
      await db.close();
    },
  };
}
