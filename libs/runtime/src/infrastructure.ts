import { createAccessFacade, type AccessFacade } from '@tally/access';
import { createExchangeFacade, type ExchangeFacade } from '@tally/exchange';
import { createLedgersFacade, MAX_TRANSACTIONS_PER_SUBMIT, type LedgersFacade } from '@tally/ledgers';
import { MAX_ACCEPT_BATCH, openOperations, type Operation, type OperationsFacade, type OperationsModule } from '@tally/operations';
import { ChannelHub, connectRedis, createRedis, PageTokens, type Config, type Database, type Logger, type Redis } from '@tally/platform';
import { prepareDatabase } from './database.js';

// A SubmitTransactions call is recorded by one accept: the intake must take the largest whole.
if (MAX_TRANSACTIONS_PER_SUBMIT > MAX_ACCEPT_BATCH) {
  throw new Error(`a submit of ${MAX_TRANSACTIONS_PER_SUBMIT} transactions exceeds what the operations module accepts at once (${MAX_ACCEPT_BATCH})`);
}

/** Five failures in a row open the rate provider's circuit for ten seconds. */
const RATE_PROVIDER_BREAKER = { failureThreshold: 5, openMs: 10_000 } as const;

/** What every Tally process opens first, whatever it runs: storage, and the modules wired together. */
export interface Infrastructure {
  readonly db: Database;
  readonly redis: Redis;
  readonly ledgers: LedgersFacade<Operation>;
  readonly operations: OperationsFacade;
  readonly exchange: ExchangeFacade<Operation>;
  readonly access: AccessFacade;
  /** The operations module's machinery: its watches (API processes) and its worker. */
  readonly operationsModule: OperationsModule;
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
  // Subscriptions take a connection over: they get one of their own.
  const subscriber = options.api ? createRedis(config.redisUrl, logger, 'subscriber') : undefined;
  if (subscriber) await connectRedis(subscriber, logger);
  const channels = subscriber && new ChannelHub({ subscriber, logger });
  const access = createAccessFacade({ db, logger, publisher: redis, ...(channels && { channels }) });
  // Every process of a deployment signs page tokens alike: with TALLY_TOKEN_SECRET, or the secret kept in the database.
  const pageTokens = new PageTokens(config.tokenSecret || (await access.pageTokenSecret()));
  const operationsModule = openOperations({ db, redis, redisUrl: config.redisUrl, partitions: config.partitions, logger, pageTokens, ...(channels && { channels }) });
  // The operations module records every module's async use cases: it is their intake port.
  const operations = operationsModule.facade;
  const ledgers = createLedgersFacade({ db, logger, intake: operations, pageTokens, ...(channels && { invalidation: { channels, publisher: redis } }) });
  return {
    db,
    redis,
    ledgers,
    operations,
    operationsModule,
    access,
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
    async close() {
      access.close();
      await operationsModule.close();
      subscriber?.disconnect();
      redis.disconnect();
      await db.close();
    },
  };
}
