import { createLogger, createRedis, Database, TallyError, type Redis } from '@tally/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { getOperation } from '../read-operations.js';
import { operationsEntities, operationsMigrations, type StoredResult } from '../schema.js';
import type { OperationStatus } from '../status.js';
import type { LedgerEvent, Operation } from '../types.js';
import { ledgerChannel, operationChannel, publishOperations } from './feed-events.js';
import { createOperationWatcher, type OperationWatcher, type WatchLimits } from './watch.js';

/**
 * Operations these specs insert by hand sit in a partition no worker serves (workers serve 0 to
 * TALLY_PARTITIONS - 1), so a worker of another suite sharing the database never applies them.
 */
const PARKED_PARTITION = 999;

/**
 * Against the real PostgreSQL test database and Redis. Rows are written with SQL and published
 * as a worker does after each commit; every test uses its own ids, so tests never share a
 * channel or a row.
 */

const logger = createLogger('warn');
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
let db: Database;
let publisher: Redis;

beforeAll(async () => {
  db = await Database.open({
    url: process.env['DATABASE_URL']!,
    modules: [{ name: 'operations', entities: operationsEntities, migrations: operationsMigrations }],
    logger,
  });
  publisher = createRedis(redisUrl, logger, 'watch-spec-publisher');
  await publisher.connect();
});
afterAll(async () => {
  publisher.disconnect();
  await db.close();
});

/** A watcher on its own subscriber connection, closed when the test ends. */
async function openWatcher(limits: Partial<WatchLimits> = {}, url = redisUrl): Promise<{ watcher: OperationWatcher; subscriber: Redis }> {
  const subscriber = createRedis(url, logger, 'watch-spec-subscriber');
  if (url === redisUrl) await subscriber.connect();
  else subscriber.connect().catch(() => undefined);
  const watcher = createOperationWatcher({ subscriber, db, logger, limits });
  onTestFinished(async () => {
    await watcher.close();
    subscriber.disconnect();
  });
  return { watcher, subscriber };
}

async function accept(ledgerId = randomUUID()): Promise<Operation> {
  const id = randomUUID();
  await db.em().getConnection().execute(
    `insert into operations.operation (id, kind, status, ledger_id, transaction_id, partition, request, request_hash)
     values (?, 'TRANSACTION', 'PENDING', ?, ?, ${PARKED_PARTITION}, '{}', 'h')`,
    [id, ledgerId, `tx-${id}`],
  );
  return getOperation(db.em(), id);
}

/** Commits the next version of the operation, as a worker does; publishing is separate. */
async function advance(id: string, status: OperationStatus, result: StoredResult | null = null): Promise<Operation> {
  await db.em().getConnection().execute(
    `update operations.operation set status = ?, version = version + 1, update_time = now(), result = ?, error = ? where id = ?`,
    [status, result && JSON.stringify(result), status === 'FAILED' ? JSON.stringify(INSUFFICIENT_FUNDS) : null, id],
  );
  return getOperation(db.em(), id);
}

const INSUFFICIENT_FUNDS = { code: 'INSUFFICIENT_FUNDS', message: 'not enough USD', details: {} };

function completion(ledgerId: string, amount = 5): StoredResult {
  return { balanceChanges: [{ ledgerId, currency: 'USD', amount: String(amount), balanceAfter: String(amount) }] };
}

async function publish(...operations: Operation[]): Promise<void> {
  await publishOperations(publisher, operations.map((operation) => ({ operation, balanceChanges: operation.result?.balanceChanges })));
}

/** Drains a watch in the background. */
function record<T>(watch: AsyncIterable<T>) {
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

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function subscribers(channel: string): Promise<number> {
  const [, count] = (await publisher.pubsub('NUMSUB', channel)) as [string, number];
  return Number(count);
}

const versions = (ops: readonly Operation[]): bigint[] => ops.map((op) => op.version);

function watchOptions(clientId = 'spec'): { signal: AbortSignal; clientId: string; abort(): void } {
  const controller = new AbortController();
  return { signal: controller.signal, clientId, abort: () => controller.abort() };
}

function refusal(error: unknown): TallyError {
  expect(error).toBeInstanceOf(TallyError);
  return error as TallyError;
}

describe('watchOperation', () => {
  it('sees every version in order, whenever it starts, and ends with the terminal state', async () => {
    const { watcher } = await openWatcher();
    const first = await accept();
    const watches = [record(watcher.watchOperation(first.id, watchOptions()))];
    await until(() => watches[0]!.items.length === 1, 'the first snapshot');
    // PENDING <-> PROCESSING (a released operation) gives many versions to start between.
    const statuses: OperationStatus[] = ['PROCESSING', 'PENDING', 'PROCESSING', 'PENDING', 'PROCESSING'];
    for (const status of statuses) {
      await publish(await advance(first.id, status));
      const watch = record(watcher.watchOperation(first.id, watchOptions()));
      watches.push(watch);
      await until(() => watch.items.length > 0, 'a snapshot');
    }
    const last = await advance(first.id, 'COMPLETED', completion(first.ledgerId));
    const during = record(watcher.watchOperation(first.id, watchOptions())); // may read v6 or v7
    await publish(last);
    await Promise.all([...watches, during].map((w) => w.finished));

    for (const watch of [...watches, during]) {
      expect(watch.state.error).toBeUndefined();
      const seen = versions(watch.items);
      // Contiguous: nothing was lost, so every version after the snapshot arrives, once.
      expect(seen).toEqual(seen.map((_, i) => seen[0]! + BigInt(i)));
      expect(watch.items.at(-1)).toMatchObject({ status: 'COMPLETED', version: 7n });
    }
    expect(versions(watches[0]!.items)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
    expect(versions(watches[3]!.items)).toEqual([4n, 5n, 6n, 7n]);

    const after = record(watcher.watchOperation(first.id, watchOptions()));
    await after.finished;
    expect(after.items.map((op) => [op.version, op.status])).toEqual([[7n, 'COMPLETED']]);
    expect(after.items[0]?.result?.balanceChanges[0]).toMatchObject({ amount: 5n });
    expect(watcher.openWatches).toBe(0);
  });

  it('drops duplicate and stale versions', async () => {
    const { watcher } = await openWatcher();
    const v1 = await accept();
    const watch = record(watcher.watchOperation(v1.id, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    const v2 = await advance(v1.id, 'PROCESSING');
    await publish(v2, v2, v1, v2);
    await publish(await advance(v1.id, 'FAILED'), v1);
    await watch.finished;
    expect(watch.items.map((op) => [op.version, op.status])).toEqual([
      [1n, 'PENDING'],
      [2n, 'PROCESSING'],
      [3n, 'FAILED'],
    ]);
  });

  it('catches up from PostgreSQL when a change is never published', async () => {
    const { watcher } = await openWatcher({ resyncIntervalMs: 50 });
    const op = await accept();
    const watch = record(watcher.watchOperation(op.id, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    await advance(op.id, 'PROCESSING'); // committed, message lost
    await until(() => watch.items.length === 2, 'the unpublished version');
    await advance(op.id, 'COMPLETED', completion(op.ledgerId)); // and again
    await watch.finished;
    expect(watch.items.map((o) => [o.version, o.status])).toEqual([
      [1n, 'PENDING'],
      [2n, 'PROCESSING'],
      [3n, 'COMPLETED'],
    ]);
  });

  it('re-reads PostgreSQL when a received version skips ahead', async () => {
    const { watcher } = await openWatcher({ resyncIntervalMs: 600_000 }); // no idle resync in this test
    const op = await accept();
    const watch = record(watcher.watchOperation(op.id, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    await advance(op.id, 'PROCESSING');
    const v3 = await advance(op.id, 'PENDING');
    await advance(op.id, 'PROCESSING'); // v4, committed but its message is still to come
    await publish(v3); // v1 -> v3: v2 was missed, so the watch reads the row and finds v4
    await until(() => watch.items.length === 2, 'the re-read version');
    expect(watch.items[1]).toMatchObject({ version: 4n, status: 'PROCESSING' });
    await publish(await advance(op.id, 'COMPLETED', completion(op.ledgerId)));
    await watch.finished;
    expect(versions(watch.items)).toEqual([1n, 4n, 5n]);
  });

  it('drops the buffer of a watcher that falls behind and resyncs it', async () => {
    const { watcher } = await openWatcher({ maxBufferedEvents: 2, resyncIntervalMs: 600_000 });
    const op = await accept();
    const slow = watcher.watchOperation(op.id, watchOptions())[Symbol.asyncIterator]();
    expect((await slow.next()).value).toMatchObject({ version: 1n });
    // A prompt watch on the same connection: once it has a message, so has the slow one.
    const prompt = record(watcher.watchOperation(op.id, watchOptions()));
    await until(() => prompt.items.length === 1, 'the prompt snapshot');
    for (const status of ['PROCESSING', 'PENDING', 'PROCESSING', 'PENDING', 'PROCESSING', 'COMPLETED'] as const) {
      const next = await advance(op.id, status, status === 'COMPLETED' ? completion(op.ledgerId) : null);
      await publish(next);
      await until(() => prompt.items.at(-1)?.version === next.version, `version ${next.version} at the prompt watch`);
    }
    const rest: Operation[] = [];
    for (let step = await slow.next(); step.done !== true; step = await slow.next()) rest.push(step.value);
    expect(rest.map((o) => [o.version, o.status])).toEqual([[7n, 'COMPLETED']]);
    expect(versions(prompt.items)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
  });

  it('refuses malformed ids at once and unknown operations with NOT_FOUND', async () => {
    const { watcher } = await openWatcher();
    expect(refusal(catchSync(() => watcher.watchOperation('op-1', watchOptions()))).code).toBe('INVALID_ARGUMENT');
    const missing = record(watcher.watchOperation(randomUUID(), watchOptions()));
    await missing.finished;
    expect(refusal(missing.state.error).code).toBe('NOT_FOUND');
    expect(watcher.openWatches).toBe(0);
  });

  it('resyncs after the subscriber connection drops and comes back', async () => {
    const { watcher, subscriber } = await openWatcher({ resyncIntervalMs: 600_000 });
    const op = await accept();
    const watch = record(watcher.watchOperation(op.id, watchOptions()));
    const ledgerId = randomUUID();
    const ledger = record(watcher.watchLedger(ledgerId, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    await until(async () => (await subscribers(ledgerChannel(ledgerId))) === 1, 'the ledger subscription');
    await advance(op.id, 'PROCESSING'); // its message is lost with the connection
    subscriber.disconnect(true); // drop the connection; ioredis reconnects
    await until(() => watch.items.length === 2, 'the version whose message was lost');
    await publish(await advance(op.id, 'COMPLETED', completion(op.ledgerId))); // the channel is live again
    await watch.finished;
    expect(versions(watch.items)).toEqual([1n, 2n, 3n]);
    // A ledger watch has nothing to catch up from: it says it may have missed changes.
    await ledger.finished;
    expect(refusal(ledger.state.error)).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'FEED_INTERRUPTED' } });
  });

  it('goes on from PostgreSQL alone while Redis cannot be reached', async () => {
    const { watcher } = await openWatcher({ resyncIntervalMs: 50 }, 'redis://127.0.0.1:1');
    const op = await accept();
    const watch = record(watcher.watchOperation(op.id, watchOptions()));
    await until(() => watch.items.length === 1, 'the snapshot');
    await advance(op.id, 'CANCELLED');
    await watch.finished;
    expect(watch.items.map((o) => o.status)).toEqual(['PENDING', 'CANCELLED']);
    const ledger = record(watcher.watchLedger(randomUUID(), watchOptions()));
    await ledger.finished;
    expect(refusal(ledger.state.error)).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'FEED_UNAVAILABLE' } });
  });
});

describe('limits and release', () => {
  it('answers RESOURCE_EXHAUSTED naming the limit, before subscribing', async () => {
    const { watcher } = await openWatcher({ maxWatches: 3, maxWatchesPerClient: 2 });
    const op = await accept();
    const opened = [watchOptions('a'), watchOptions('a'), watchOptions('b')].map((o) => ({ o, w: record(watcher.watchOperation(op.id, o)) }));
    await until(() => opened.every(({ w }) => w.items.length === 1), 'three snapshots');
    expect(watcher.openWatches).toBe(3);

    const other = await accept();
    const perClient = record(watcher.watchOperation(other.id, watchOptions('a')));
    await perClient.finished;
    const perClientError = refusal(perClient.state.error);
    expect(perClientError.code).toBe('RESOURCE_EXHAUSTED');
    expect(perClientError.message).toContain('maxWatchesPerClient');
    const total = record(watcher.watchOperation(other.id, watchOptions('c')));
    await total.finished;
    expect(refusal(total.state.error)).toMatchObject({ code: 'RESOURCE_EXHAUSTED', details: { metadata: { limit: 'maxWatches' } } });
    expect(refusal(total.state.error).message).toContain('maxWatches');
    expect(await subscribers(operationChannel(other.id))).toBe(0);

    // Leaving gives the slots back.
    opened[0]!.o.abort();
    await opened[0]!.w.finished;
    expect(watcher.openWatches).toBe(2);
    const again = record(watcher.watchOperation(op.id, watchOptions('a')));
    await until(() => again.items.length === 1, 'a snapshot in the freed slot');
    expect(watcher.openWatches).toBe(3);
  });

  it('subscribes a channel once however many watch it, and leaves it when the last aborts', async () => {
    const { watcher } = await openWatcher();
    const op = await accept();
    const channel = operationChannel(op.id);
    const [a, b] = [watchOptions(), watchOptions()];
    const watches = [record(watcher.watchOperation(op.id, a)), record(watcher.watchOperation(op.id, b))];
    await until(() => watches.every((w) => w.items.length === 1), 'both snapshots');
    expect(await subscribers(channel)).toBe(1);
    a.abort();
    await watches[0]!.finished; // the pending next() settles at once: nothing left hanging
    expect(watches[0]!.state.error).toBeUndefined();
    expect(await subscribers(channel)).toBe(1);
    b.abort();
    await watches[1]!.finished;
    await until(async () => (await subscribers(channel)) === 0, 'the channel to be left');
    expect(watcher.openWatches).toBe(0);
  });

  it('releases a watch its consumer stopped reading, as soon as the signal aborts', async () => {
    const { watcher } = await openWatcher();
    const op = await accept();
    const options = watchOptions();
    const iterator = watcher.watchOperation(op.id, options)[Symbol.asyncIterator]();
    await iterator.next();
    expect(watcher.openWatches).toBe(1);
    options.abort(); // the consumer is not waiting on next(): the watch still lets go
    expect(watcher.openWatches).toBe(0);
    await until(async () => (await subscribers(operationChannel(op.id))) === 0, 'the channel to be left');
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('close() ends every open watch and refuses new ones', async () => {
    const { watcher } = await openWatcher();
    const op = await accept();
    const watches = [record(watcher.watchOperation(op.id, watchOptions())), record(watcher.watchLedger(op.ledgerId, watchOptions()))];
    await until(() => watches[0]!.items.length === 1, 'the snapshot');
    await until(async () => (await subscribers(ledgerChannel(op.ledgerId))) === 1, 'the ledger subscription');
    await watcher.close();
    await Promise.all(watches.map((w) => w.finished));
    expect(watches.map((w) => w.state.error)).toEqual([undefined, undefined]);
    expect(watcher.openWatches).toBe(0);
    const late = record(watcher.watchOperation(op.id, watchOptions()));
    await late.finished;
    expect(refusal(late.state.error).code).toBe('UNAVAILABLE');
  });
});

describe('watchLedger', () => {
  it("delivers the ledger's operation and balance changes once each, and nothing from other ledgers", async () => {
    const { watcher } = await openWatcher();
    const [ledger, otherLedger] = [randomUUID(), randomUUID()];
    expect(refusal(catchSync(() => watcher.watchLedger('ledger-1', watchOptions()))).code).toBe('INVALID_ARGUMENT');
    const watch = record(watcher.watchLedger(ledger, watchOptions()));
    await until(async () => (await subscribers(ledgerChannel(ledger))) === 1, 'the ledger subscription');

    const mine = await accept(ledger);
    const theirs = await accept(otherLedger);
    const processing = await advance(mine.id, 'PROCESSING');
    await publish(processing, await advance(theirs.id, 'PROCESSING'));
    const completed = await advance(mine.id, 'COMPLETED', completion(ledger, 7));
    await publish(completed, await advance(theirs.id, 'COMPLETED', completion(otherLedger, 9)));
    await publish(completed, processing); // a repeat and a stale version: dropped
    const sentinel = await advance((await accept(ledger)).id, 'PROCESSING');
    await publish(sentinel);
    await until(() => watch.items.some((e) => e.kind === 'operation' && e.operation.id === sentinel.id), 'the last change');

    expect(watch.items.map(describeEvent)).toEqual([
      `op ${mine.id} v2 PROCESSING`,
      `op ${mine.id} v3 COMPLETED`,
      `balance ${mine.id} ${ledger} USD 7 -> 7`,
      `op ${sentinel.id} v2 PROCESSING`,
    ]);
    expect(watch.state.done).toBe(false); // a ledger watch lasts until the client leaves
  });

  it('fails a ledger watch that falls too far behind, rather than skip changes silently', async () => {
    const { watcher } = await openWatcher({ maxBufferedEvents: 1 });
    const ledger = randomUUID();
    const slow = watcher.watchLedger(ledger, watchOptions())[Symbol.asyncIterator]();
    const firstStep = slow.next(); // waits for the first change; nothing read after it
    const prompt = record(watcher.watchLedger(ledger, watchOptions())); // same connection, reads at once
    await until(async () => (await subscribers(ledgerChannel(ledger))) === 1, 'the ledger subscription');
    for (let i = 0; i < 3; i++) {
      const op = await advance((await accept(ledger)).id, 'PROCESSING');
      await publish(op);
      await until(() => prompt.items.length === i + 1, `change ${i + 1} at the prompt watch`);
    }
    expect((await firstStep).value).toMatchObject({ kind: 'operation' });
    const behind = await slow.next().then(() => undefined, (error: unknown) => error);
    expect(refusal(behind)).toMatchObject({ code: 'RESOURCE_EXHAUSTED', details: { reason: 'WATCH_FELL_BEHIND' } });
    expect(watcher.openWatches).toBe(1); // the failed watch gave its slot back
  });
});

function describeEvent(event: LedgerEvent): string {
  if (event.kind === 'operation') return `op ${event.operation.id} v${event.operation.version} ${event.operation.status}`;
  const c = event.change;
  return `balance ${c.operationId} ${c.ledgerId} ${c.currency} ${c.amount} -> ${c.balanceAfter}`;
}

function catchSync(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected a synchronous throw');
}
