import { randomUUID } from 'node:crypto';
import { createExchangeFacade, type ExchangeFacade } from '@tally/exchange';
import { createLedgersFacade, type LedgersFacade } from '@tally/ledgers';
import {
  createOperationsFacade,
  createStatusFeed,
  FeedHub,
  PartitionQueues,
  type LocalWorker,
  type Operation,
  type OperationsFacade,
  type StatusFeed,
} from '@tally/operations';
import { ChannelHub, connectRedis, createRedis, type Config, type Database, type Logger, type Redis } from '@tally/platform';
import { prepareDatabase } from './database.js';

/** Five failures in a row open the rate provider's circuit for ten seconds. */
const RATE_PROVIDER_BREAKER = { failureThreshold: 5, openMs: 10_000 } as const;

/** What every Tally process opens first, whatever it runs: storage, queues, module facades. */
export interface Infrastructure {
  readonly db: Database;
  readonly redis: Redis;
  readonly queues: PartitionQueues;
  /** Where committed operation changes go: this process's watchers, and every other process. */
  readonly feed: StatusFeed;
  /** An API process's end of the status feed (what its watches follow); undefined elsewhere. */
  readonly feedHub: FeedHub | undefined;
  readonly ledgers: LedgersFacade<Operation>;
  readonly operations: OperationsFacade;
  readonly exchange: ExchangeFacade<Operation>;
  /**
   * This process's own worker, once started (TALLY_ROLE=all): accepted work wakes it at once
   * instead of after a Redis round trip, and accepting keeps pace with it.
   */
  useLocalWorker(worker: LocalWorker): void;
  close(): Promise<void>;
}

export interface InfrastructureOptions {
  /**
   * The process serves the API: it subscribes to the status feed (for its watches) and to the
   * invalidations of what it caches. Tools and worker-only processes do not.
   */
  readonly api?: boolean;
}

export async function openInfrastructure(config: Config, logger: Logger, options: InfrastructureOptions = {}): Promise<Infrastructure> {
  const db = await prepareDatabase(config.databaseUrl, logger);
  const redis = createRedis(config.redisUrl, logger, config.role);
  await connectRedis(redis, logger);
  const queues = new PartitionQueues(config.redisUrl, logger);
  // Subscriptions take a connection over: they get one of their own.
  const subscriber = options.api ? createRedis(config.redisUrl, logger, 'subscriber') : undefined;
  if (subscriber) await connectRedis(subscriber, logger);
  const channels = subscriber && new ChannelHub({ subscriber, logger });
  const feedHub = channels && new FeedHub({ channels, origin: randomUUID(), logger });
  const feed = createStatusFeed({ redis, logger, ...(feedHub && { local: feedHub }) });
  let localWorker: LocalWorker | undefined;
  // The operations module records every module's async use cases: it is their intake port.
  const operations = createOperationsFacade({ db, queues, feed, partitions: config.partitions, localWorker: () => localWorker });
  const ledgers = createLedgersFacade({ db, logger, intake: operations, ...(channels && { invalidation: { channels, publisher: redis } }) });
  return {
    db,
    redis,
    queues,
    feed,
    feedHub,
    ledgers,
    operations,
    exchange: createExchangeFacade({
      db,
      redis,
      logger,
      ledgers,
      intake: operations,
      quoteTtlMs: config.quoteTtlMs,
      rates: {
        providerUrl: config.ratesUrl,
        timeoutMs: config.ratesTimeoutMs,
        cacheTtlMs: config.ratesCacheTtlMs,
        maxStalenessMs: config.ratesMaxStalenessMs,
        breaker: RATE_PROVIDER_BREAKER,
      },
    }),
    useLocalWorker(worker) {
      localWorker = worker;
    },
    async close() {
      feedHub?.close();
      subscriber?.disconnect();
      await queues.close();
      redis.disconnect();
      await db.close();
    },
  };
}
