import { createLedgersFacade, type LedgersFacade } from '@tally/ledgers';
import { createOperationsFacade, PartitionQueues, type OperationsFacade } from '@tally/operations';
import { connectRedis, createRedis, type Config, type Database, type Logger, type Redis } from '@tally/platform';
import { prepareDatabase } from './database.js';

/** What every Tally process opens first, whatever it runs: storage, queues, module facades. */
export interface Infrastructure {
  readonly db: Database;
  readonly redis: Redis;
  readonly queues: PartitionQueues;
  readonly ledgers: LedgersFacade;
  readonly operations: OperationsFacade;
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
    async close() {
      await queues.close();
      redis.disconnect();
      await db.close();
    },
  };
}
