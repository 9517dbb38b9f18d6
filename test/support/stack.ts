import { createExchangeFacade, type ExchangeFacade } from '@tally/exchange';
import { createLedgersFacade, type LedgersFacade } from '@tally/ledgers';
import {
  createOperationsFacade,
  createStatusFeed,
  OperationsWorker,
  PartitionQueues,
  type Appliers,
  type Operation,
  type OperationsFacade,
  type WorkerLimits,
} from '@tally/operations';
import { createLogger, createRedis, type Database, type Redis } from '@tally/platform';
import { appliersFor, prepareDatabase, preparersFor } from '@tally/runtime';
import { isolatedEnv, TEST_WORKER_LIMITS } from './server.js';

/**
 * The modules wired by hand, without the RPC layer, on a database and Redis index of the
 * suite's own: for tests that need to reach inside the machinery (several workers at once, a
 * broken queue, a failing applier).
 */
export interface Stack {
  readonly db: Database;
  readonly redisUrl: string;
  readonly redis: Redis;
  readonly ledgers: LedgersFacade<Operation>;
  readonly exchange: ExchangeFacade<Operation>;
  /** The API side's facade, queueing through `queues`. */
  readonly operations: OperationsFacade;
  readonly queues: PartitionQueues;
  /** Starts a worker; `redisUrl` may differ to give it a lease namespace of its own. */
  startWorker(options?: { appliers?: Appliers; redisUrl?: string; limits?: Partial<WorkerLimits>; clock?: () => number }): Promise<OperationsWorker>;
  close(): Promise<void>;
}

export const PARTITIONS = 4;
const logger = createLogger((process.env['TALLY_TEST_LOG_LEVEL'] as 'silent' | undefined) ?? 'silent', 'stack');

export async function openStack(name: string, redisDb: number, queueRedisUrl?: string): Promise<Stack> {
  const env = isolatedEnv(name, redisDb);
  const db = await prepareDatabase(env['DATABASE_URL']!, logger);
  const redisUrl = env['REDIS_URL']!;
  const redis = createRedis(redisUrl, logger, 'test');
  await redis.connect();
  const queues = new PartitionQueues(queueRedisUrl ?? redisUrl, logger);
  const feed = createStatusFeed({ redis, logger });
  const operations = createOperationsFacade({ db, queues, feed, partitions: PARTITIONS });
  const ledgers = createLedgersFacade({ db, logger, intake: operations });
  // Exchanges are not what these suites exercise: their provider is nowhere.
  const exchange = createExchangeFacade({
    db,
    redis,
    logger,
    ledgers,
    intake: operations,
    quoteTtlMs: 30_000,
    rates: { providerUrl: 'http://127.0.0.1:1', timeoutMs: 100, cacheTtlMs: 1_000, maxStalenessMs: 0, breaker: { failureThreshold: 1, openMs: 1_000 } },
  });
  const workers: OperationsWorker[] = [];
  const extraRedis: Redis[] = [];
  return {
    db,
    redisUrl,
    redis,
    ledgers,
    exchange,
    queues,
    operations,
    async startWorker(options = {}) {
      const url = options.redisUrl ?? redisUrl;
      const workerRedis = url === redisUrl ? redis : createRedis(url, logger, 'test-worker');
      if (workerRedis !== redis) {
        await workerRedis.connect();
        extraRedis.push(workerRedis);
      }
      const worker = new OperationsWorker({
        db,
        redis: workerRedis,
        feed: workerRedis === redis ? feed : createStatusFeed({ redis: workerRedis, logger }),
        redisUrl: url,
        queues: url === redisUrl ? queues : new PartitionQueues(url, logger),
        partitions: PARTITIONS,
        appliers: options.appliers ?? appliersFor(ledgers, exchange),
        preparers: preparersFor(exchange),
        logger,
        limits: { ...TEST_WORKER_LIMITS, ...options.limits },
        ...(options.clock ? { clock: options.clock } : {}),
      });
      worker.start();
      await worker.rebalance();
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.stop()));
      await queues.close();
      for (const r of [...extraRedis, redis]) r.disconnect();
      await db.close();
    },
  };
}

/** Polls until `check` holds; gives up after `patienceMs`. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, patienceMs = 20_000): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}
