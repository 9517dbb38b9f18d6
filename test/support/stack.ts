import { createExchangeFacade, type ExchangeFacade } from '@tally/exchange';
import { createLedgersFacade, type LedgersFacade } from '@tally/ledgers';
import { openOperations, type Appliers, type Operation, type OperationsFacade, type OperationsModule, type OperationsWorker, type WorkerLimits } from '@tally/operations';
import { createLogger, createRedis, PageTokens, type Database, type Redis } from '@tally/platform';
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
  /** The API side's facade. */
  readonly operations: OperationsFacade;
  /** Starts a worker; `redisUrl` may differ to give it a lease namespace of its own. */
  startWorker(options?: { appliers?: Appliers; redisUrl?: string; limits?: Partial<WorkerLimits>; clock?: () => number }): Promise<OperationsWorker>;
  close(): Promise<void>;
}

export const PARTITIONS = 4;
const logger = createLogger((process.env['TALLY_TEST_LOG_LEVEL'] as 'silent' | undefined) ?? 'silent', 'stack');

export async function openStack(name: string, redisDb: number): Promise<Stack> {
  const env = isolatedEnv(name, redisDb);
  const db = await prepareDatabase(env['DATABASE_URL']!, logger);
  const redisUrl = env['REDIS_URL']!;
  const redis = createRedis(redisUrl, logger, 'test');
  await redis.connect();
  const pageTokens = new PageTokens('a test page token secret');
  const api = openOperations({ db, redis, redisUrl, partitions: PARTITIONS, logger, pageTokens });
  const operations = api.facade;
  const ledgers = createLedgersFacade({ db, logger, intake: operations, pageTokens });
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
  /** Each worker with a Redis of its own is a process of its own: its own connection and operations module. */
  const others: Array<{ redis: Redis; module: OperationsModule }> = [];
  return {
    db,
    redisUrl,
    redis,
    ledgers,
    exchange,
    operations,
    async startWorker(options = {}) {
      const url = options.redisUrl ?? redisUrl;
      let module = api;
      if (url !== redisUrl) {
        const workerRedis = createRedis(url, logger, 'test-worker');
        await workerRedis.connect();
        module = openOperations({ db, redis: workerRedis, redisUrl: url, partitions: PARTITIONS, logger, pageTokens });
        others.push({ redis: workerRedis, module });
      }
      const worker = module.startWorker({
        appliers: options.appliers ?? appliersFor(ledgers, exchange),
        preparers: preparersFor(exchange),
        limits: { ...TEST_WORKER_LIMITS, ...options.limits },
        ...(options.clock ? { clock: options.clock } : {}),
      });
      await worker.rebalance();
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.stop()));
      for (const m of [api, ...others.map((o) => o.module)]) await m.close();
      for (const r of [...others.map((o) => o.redis), redis]) r.disconnect();
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
