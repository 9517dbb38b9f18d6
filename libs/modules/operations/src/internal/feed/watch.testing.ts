import { ChannelHub, createLogger, createRedis, Database, TallyError, type Redis } from '@tally/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, onTestFinished } from 'vitest';
import { createOperationReader, readOperations } from '../operation-store.js';
import { operationsMigrations } from '../migrations.js';
import { operationsEntities, type StoredResult } from '../schema.js';
import type { OperationStatus } from '../status.js';
import type { LedgerEvent, Operation } from '../types.js';
import { FeedHub } from './feed-hub.js';
import { createStatusFeed, type StatusFeed } from './status-feed.js';
import { createOperationWatcher, type OperationWatcher, type WatchLimits } from './watch.js';

/**
 * Operations these specs insert by hand sit in a partition no worker serves (workers serve 0 to
 * TALLY_PARTITIONS - 1), so a worker of another suite sharing the database never applies them.
 */
const PARKED_PARTITION = 999;

/**
 * The watch specs' fixture (`*.testing.ts` files are left out of the build), against the real
 * PostgreSQL test database and Redis. Rows are written with SQL and published as a worker does
 * after each commit; every test uses its own ids, so tests never share a channel or a row.
 */

const logger = createLogger('warn');
export const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
let db: Database;
let publisher: Redis;
/** Publishes as a worker in another process does: through Redis only. */
let feed: StatusFeed;

/** Opens the database and a publisher connection for the calling spec file, and closes them after it. */
export function useWatchFixture(): void {
  beforeAll(async () => {
    db = await Database.open({
      url: process.env['DATABASE_URL']!,
      modules: [{ name: 'operations', entities: operationsEntities, migrations: operationsMigrations }],
      logger,
    });
    publisher = createRedis(redisUrl, logger, 'watch-spec-publisher');
    await publisher.connect();
    feed = createStatusFeed({ redis: publisher, logger });
  });
  afterAll(async () => {
    publisher.disconnect();
    await db.close();
  });
}

/** A watcher following the feed on a subscriber connection of its own (as an API process does), closed when the test ends. */
export async function openWatcher(
  limits: Partial<WatchLimits> = {},
  url = redisUrl,
): Promise<{ watcher: OperationWatcher; subscriber: Redis; hub: FeedHub }> {
  const subscriber = createRedis(url, logger, 'watch-spec-subscriber');
  if (url === redisUrl) await subscriber.connect();
  else subscriber.connect().catch(() => undefined);
  const hub = new FeedHub({ channels: new ChannelHub({ subscriber, logger }), origin: randomUUID(), logger });
  const watcher = createOperationWatcher({ feed: hub, read: createOperationReader(db.sql), logger, limits });
  onTestFinished(async () => {
    await watcher.close();
    hub.close();
    subscriber.disconnect();
  });
  if (url === redisUrl) await hub.live;
  return { watcher, subscriber, hub };
}

export async function accept(ledgerId = randomUUID()): Promise<Operation> {
  const id = randomUUID();
  await db.em().getConnection().execute(
    `insert into operations.operation (id, kind, status, ledger_id, transaction_id, partition, request, request_hash)
     values (?, 'TRANSACTION', 'PENDING', ?, ?, ${PARKED_PARTITION}, '{}', 'h')`,
    [id, ledgerId, `tx-${id}`],
  );
  return read(id);
}

async function read(id: string): Promise<Operation> {
  const [operation] = await readOperations(db.sql, [id]);
  if (!operation) throw new Error(`operation ${id} not found`);
  return operation;
}

/** Commits the next version of the operation, as a worker does; publishing is separate. */
export async function advance(id: string, status: OperationStatus, result: StoredResult | null = null): Promise<Operation> {
  await db.em().getConnection().execute(
    `update operations.operation set status = ?, version = version + 1, update_time = now(), result = ?, error = ? where id = ?`,
    [status, result && JSON.stringify(result), status === 'FAILED' ? JSON.stringify(INSUFFICIENT_FUNDS) : null, id],
  );
  return read(id);
}

const INSUFFICIENT_FUNDS = { code: 'INSUFFICIENT_FUNDS', message: 'not enough USD', details: {} };

export function completion(ledgerId: string, amount = 5): StoredResult {
  return { balanceChanges: [{ ledgerId, currency: 'USD', amount: String(amount), balanceAfter: String(amount) }] };
}

/** Publishes the operations' changes, one feed message, and waits until Redis has taken it. */
export async function publish(...operations: Operation[]): Promise<void> {
  feed.publish(operations.map((operation) => ({ operation, balanceChanges: operation.result?.balanceChanges })));
  await publisher.ping(); // commands of one connection are answered in order: the PUBLISH is done
}

/** Drains a watch in the background. */
export function record<T>(watch: AsyncIterable<T>) {
  const items: T[] = [];
  const state = { done: false, error: undefined as unknown };
  const finished = (async () => {
    try {
      for await (const item of watch) items.push(item);
    } catch (error) {
      state.error = error;
    } finally {
      state.done = true;
    }
  })();
  return { items, state, finished };
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}


export const versions = (ops: readonly Operation[]): bigint[] => ops.map((op) => op.version);

export function watchOptions(clientId = 'spec'): { signal: AbortSignal; clientId: string; abort(): void } {
  const controller = new AbortController();
  return { signal: controller.signal, clientId, abort: () => controller.abort() };
}

export function refusal(error: unknown): TallyError {
  expect(error).toBeInstanceOf(TallyError);
  return error as TallyError;
}

export function describeEvent(event: LedgerEvent): string {
  if (event.kind === 'operation') return `op ${event.operation.id} v${event.operation.version} ${event.operation.status}`;
  const c = event.change;
  return `balance ${c.operationId} ${c.ledgerId} ${c.currency} ${c.amount} -> ${c.balanceAfter}`;
}

export function catchSync(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a synchronous throw');
}
