import { createLogger, Database, EVERY_TENANT, PageTokens, TallyError } from '@tally/platform';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOperations, operationsSchema, type OperationsFacade, type OperationsModule } from './index.js';
import { createRedis } from '@tally/platform';

/**
 * Operations these specs insert by hand sit in a partition no worker serves (workers serve 0 to
 * TALLY_PARTITIONS - 1), so a worker of another suite sharing the database never applies them.
 */
const PARKED_PARTITION = 999;

/** Against the real PostgreSQL test database. Operations are inserted as the submit path records them. */
let db: Database;
let operations: OperationsFacade;
const logger = createLogger('warn');
const redis = createRedis(process.env['REDIS_URL']!, logger, 'operations-spec');
let module: OperationsModule;

beforeAll(async () => {
  db = await Database.open({ url: process.env['DATABASE_URL']!, modules: [operationsSchema], logger });
  await redis.connect();
  module = openOperations({ db, redis, redisUrl: process.env['REDIS_URL']!, partitions: 8, logger, pageTokens: new PageTokens('a test page token secret') });
  operations = module.facade;
});
afterAll(async () => {
  await module.close();
  redis.disconnect();
  await db.close();
});

async function accepted(ledgerId: string, kind = 'TRANSACTION', status = 'PENDING', tenant: string | null = null): Promise<string> {
  const id = randomUUID();
  const completed = status === 'COMPLETED';
  await db.orm.em.getConnection().execute(
    `insert into operations.operation (id, kind, status, ledger_id, transaction_id, partition, request, request_hash, result, tenant)
     values (?, ?, ?, ?, ?, ${PARKED_PARTITION}, '{}', 'h', ?, ?)`,
    [id, kind, status, ledgerId, `tx-${id}`, completed ? JSON.stringify({ balanceChanges: [{ ledgerId, currency: 'USD', amount: '5', balanceAfter: '5' }] }) : null, tenant],
  );
  return id;
}

async function refusal(promise: Promise<unknown>): Promise<TallyError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TallyError);
  return error as TallyError;
}

describe('operations facade', () => {
  it('reads an operation as recorded, results as bigints', async () => {
    const ledgerId = randomUUID();
    const id = await accepted(ledgerId, 'TRANSACTION', 'COMPLETED');
    const op = await operations.getOperation(id, EVERY_TENANT);
    expect(op).toMatchObject({ id, kind: 'TRANSACTION', status: 'COMPLETED', ledgerId, version: 1n, attempts: 0, error: null });
    expect(op.result?.balanceChanges).toEqual([{ ledgerId, currency: 'USD', amount: 5n, balanceAfter: 5n }]);
    expect((await refusal(operations.getOperation(randomUUID(), EVERY_TENANT))).code).toBe('NOT_FOUND');
    expect((await refusal(operations.getOperation('op-1', EVERY_TENANT))).details.violations?.[0]?.field).toBe('operation_id');
  });

  it('lists newest first with filters and page tokens', async () => {
    const ledgerId = randomUUID();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await accepted(ledgerId, i % 2 === 0 ? 'TRANSACTION' : 'TRANSFER'));
    const base = { ledgerId, scope: EVERY_TENANT, status: null, kind: null, pageSize: 2, pageToken: '' } as const;
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await operations.listOperations({ ...base, pageToken });
      seen.push(...page.items.map((o) => o.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual([...ids].reverse());
    const transfers = await operations.listOperations({ ...base, kind: 'TRANSFER', pageSize: 0 });
    expect(transfers.items.map((o) => o.id)).toEqual([ids[3], ids[1]]);
    const completed = await operations.listOperations({ ...base, status: 'COMPLETED' });
    expect(completed.items).toEqual([]);
    const first = await operations.listOperations(base);
    const otherQuery = await refusal(operations.listOperations({ ...base, kind: 'TRANSFER', pageToken: first.nextPageToken }));
    expect(otherQuery.details.violations?.[0]?.field).toBe('page_token');
  });

  it("shows a tenant only its own operations: another's is NOT_FOUND to read, cancel and list", async () => {
    const acme = { tenant: `acme-${randomUUID()}` };
    const globex = { tenant: `globex-${randomUUID()}` };
    const ledgerId = randomUUID();
    const mine = await accepted(ledgerId, 'TRANSACTION', 'PENDING', acme.tenant);
    const theirs = await accepted(randomUUID(), 'TRANSACTION', 'PENDING', globex.tenant);
    expect((await operations.getOperation(mine, acme)).tenant).toBe(acme.tenant);
    for (const refused of [await refusal(operations.getOperation(mine, globex)), await refusal(operations.cancelOperation(mine, globex))]) {
      expect([refused.code, refused.message]).toEqual(['NOT_FOUND', `operation ${mine} not found`]);
    }
    expect((await operations.getOperation(mine, acme)).status).toBe('PENDING');
    const list = (scope: typeof acme, onLedger = '') =>
      operations.listOperations({ ledgerId: onLedger, scope, status: null, kind: null, pageSize: 500, pageToken: '' });
    expect((await list(acme)).items.map((o) => o.id)).toEqual([mine]);
    expect((await list(globex)).items.map((o) => o.id)).toEqual([theirs]);
    expect((await list(globex, ledgerId)).items).toEqual([]);
  });

  it('cancels a PENDING operation exactly once, even when asked concurrently', async () => {
    const id = await accepted(randomUUID());
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map(() => operations.cancelOperation(id, EVERY_TENANT)));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(won[0]?.value).toMatchObject({ status: 'CANCELLED', version: 2n });
    for (const lost of outcomes.filter((o) => o.status === 'rejected')) {
      expect((lost.reason as TallyError).code).toBe('FAILED_PRECONDITION');
      expect((lost.reason as TallyError).details.metadata).toEqual({ operation_id: id, status: 'CANCELLED' });
    }
  });

  it('refuses to cancel an operation that is no longer PENDING', async () => {
    const id = await accepted(randomUUID(), 'TRANSACTION', 'COMPLETED');
    const refused = await refusal(operations.cancelOperation(id, EVERY_TENANT));
    expect(refused.code).toBe('FAILED_PRECONDITION');
    expect(refused.message).toContain('is COMPLETED');
    expect((await operations.getOperation(id, EVERY_TENANT)).version).toBe(1n);
  });

  it('cannot be moved backwards or skip a version, even by hand-written SQL', async () => {
    const id = await accepted(randomUUID(), 'TRANSACTION', 'COMPLETED');
    const conn = db.orm.em.getConnection();
    await expect(conn.execute(`update operations.operation set status = 'PENDING', version = version + 1 where id = ?`, [id])).rejects.toThrow(
      /cannot move from COMPLETED to PENDING/,
    );
    const pending = await accepted(randomUUID());
    await expect(conn.execute(`update operations.operation set status = 'PROCESSING' where id = ?`, [pending])).rejects.toThrow(
      /version must grow by one/,
    );
    await expect(conn.execute(`update operations.operation set transaction_id = 'other', version = version + 1 where id = ?`, [pending])).rejects.toThrow(
      /immutable/,
    );
  });
});
