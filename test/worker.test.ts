import { openOperations, RETRIES_EXHAUSTED, type Operation, type OperationSpec } from '@tally/operations';
import { createLogger, EVERY_TENANT, PageTokens, TallyError } from '@tally/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { isolatedEnv } from './support/server.js';
import { eventually, openStack, PARTITIONS, type Stack } from './support/stack.js';

/** `npm run requeue` as built (the suite's build step makes apps/server/dist). */
function requeueTool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ['apps/server/dist/requeue.js', ...args],
      { env: { ...process.env, ...isolatedEnv('worker', 3), TALLY_PARTITIONS: String(PARTITIONS) } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/**
 * The worker machinery on a database and Redis index of its own: racing workers, a lost
 * queue entry, retries running out, retention.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await openStack('worker', 3);
});
afterAll(() => stack.close());

const credit = (ledgerId: string, transactionId: string, amount: bigint): OperationSpec => ({
  kind: 'TRANSACTION',
  ledgerId,
  transactionId,
  tenant: null,
  request: { type: 'CREDIT', amount: amount.toString(), currency: 'USD', metadata: {} },
});
const debit = (ledgerId: string, transactionId: string, amount: bigint): OperationSpec => ({
  ...credit(ledgerId, transactionId, amount),
  request: { type: 'DEBIT', amount: amount.toString(), currency: 'USD', metadata: {} },
});

async function accept(specs: OperationSpec[]): Promise<Operation[]> {
  const outcomes = await stack.operations.accept(specs);
  return outcomes.map((o) => {
    if (!o.ok) throw o.error;
    return o.operation;
  });
}

async function allEnded(ids: readonly string[]): Promise<Operation[]> {
  const read = () => Promise.all(ids.map((id) => stack.operations.getOperation(id, EVERY_TENANT)));
  return eventually(read, (ops) => ops.every((o) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(o.status)), 30_000);
}

async function entriesOf(ledgerId: string): Promise<Array<{ operation_id: string; amount: string }>> {
  return stack.db.em().execute(`select operation_id, amount from ledgers.entry where ledger_id = ? order by id`, [ledgerId]);
}

describe('two workers on the same partitions by mistake', () => {
  it('never spend the same money twice and never lose an update', async () => {
    // Each worker has a lease namespace of its own (another Redis index), so both believe they
    // hold every partition: only PostgreSQL stands between them.
    const first = await stack.startWorker();
    const second = await stack.startWorker({ redisUrl: stack.redisUrl.replace(/\/3$/, '/4') });
    try {
      expect(first.heldPartitions).toHaveLength(PARTITIONS);
      expect(second.heldPartitions).toHaveLength(PARTITIONS);
      const spender = (await stack.ledgers.createLedger({ name: 'spender', currencies: ['USD'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
      const counter = (await stack.ledgers.createLedger({ name: 'counter', currencies: ['USD'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
      const ops = await accept([
        credit(spender, 'fund', 100n),
        ...Array.from({ length: 10 }, (_, i) => debit(spender, `spend-${i}`, 60n)),
        ...Array.from({ length: 200 }, (_, i) => credit(counter, `one-${i}`, 1n)),
      ]);
      void second.wake();
      void first.wake();
      const ended = await allEnded(ops.map((o) => o.id));

      const spends = ended.filter((o) => o.transactionId.startsWith('spend-'));
      expect(spends.filter((o) => o.status === 'COMPLETED')).toHaveLength(1);
      expect(spends.filter((o) => o.status === 'FAILED').every((o) => o.error?.code === 'INSUFFICIENT_FUNDS')).toBe(true);
      expect((await stack.ledgers.getBalances(spender, EVERY_TENANT))[0]?.amount).toBe(40n);
      expect((await stack.ledgers.getBalances(counter, EVERY_TENANT))[0]?.amount).toBe(200n);
      // Every completed operation wrote exactly one entry on its ledger; no other wrote any.
      const entries = [...(await entriesOf(spender)), ...(await entriesOf(counter))];
      const completed = ended.filter((o) => o.status === 'COMPLETED').map((o) => o.id);
      expect(entries.map((e) => e.operation_id).sort()).toEqual([...completed].sort());
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});

describe('recovery sweep', () => {
  it('applies an operation whose queue entry was never written (Redis unreachable at accept)', async () => {
    const logger = createLogger('silent');
    // An API process whose queues' Redis is unreachable (its feed still publishes on the suite's).
    const cutOff = openOperations({ db: stack.db, redis: stack.redis, redisUrl: 'redis://127.0.0.1:1', partitions: PARTITIONS, logger, pageTokens: new PageTokens('a test page token secret') });
    const api = cutOff.facade;
    const ledgerId = (await stack.ledgers.createLedger({ name: 'lost', currencies: ['USD'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
    const acceptedAtMs = Date.now();
    const [outcome] = await api.accept([credit(ledgerId, 'lost-entry', 25n)]);
    await new Promise((resolve) => setTimeout(resolve, 100)); // its wake-up fails meanwhile (Redis unreachable)
    await cutOff.close();
    if (!outcome?.ok) throw new Error('not accepted');
    expect(outcome.operation.status).toBe('PENDING');
    // No job was queued for its partition since it was accepted.
    const jobs = Object.values(await stack.redis.hgetall(`tally:partition-${outcome.partition}:jobs`)).map(
      (stored) => (JSON.parse(stored) as { data: { queuedAtMs: number } }).data,
    );
    expect(jobs.filter((job) => job.queuedAtMs >= acceptedAtMs)).toEqual([]);

    const worker = await stack.startWorker();
    try {
      const [done] = await allEnded([outcome.operation.id]);
      expect(done?.status).toBe('COMPLETED');
      expect((await stack.ledgers.getBalances(ledgerId, EVERY_TENANT))[0]?.amount).toBe(25n);
    } finally {
      await worker.stop();
    }
  });
});

describe('a worker whose lease renewal comes late', () => {
  it('claims nothing from partitions it cannot be sure it still holds, and applies them again once renewed', async () => {
    let now = 0;
    // Renewals this far apart that the worker's own timer sends none during the test; a lease
    // namespace of its own (another Redis index), so it holds every partition.
    const lease = { leaseTtlMs: 60_000, renewIntervalMs: 30_000 };
    const worker = await stack.startWorker({ clock: () => now, limits: { lease }, redisUrl: stack.redisUrl.replace(/\/3$/, '/4') });
    try {
      expect(worker.applyingPartitions).toHaveLength(PARTITIONS);
      // The drain that taking the partitions started is over: no claim is in flight, made with
      // what the worker held before the clock moves.
      await worker.wake();
      const ledgerId = (await stack.ledgers.createLedger({ name: 'late renewal', currencies: ['USD'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
      // Its last renewal was sent a TTL less one renewal interval ago: Redis may expire the
      // lease soon and another worker take the partition over.
      now += lease.leaseTtlMs - lease.renewIntervalMs;
      expect(worker.applyingPartitions).toEqual([]);
      const [op] = await accept([credit(ledgerId, 'late-renewal', 40n)]);
      await worker.wake();
      expect((await stack.operations.getOperation(op!.id, EVERY_TENANT)).status).toBe('PENDING');

      await worker.rebalance(); // the renewal succeeds: the leases were still this worker's
      expect(worker.applyingPartitions).toHaveLength(PARTITIONS);
      const [done] = await allEnded([op!.id]);
      expect(done?.status).toBe('COMPLETED');
    } finally {
      await worker.stop();
    }
  });
});

describe('retries', () => {
  it('end an operation FAILED RETRIES_EXHAUSTED when every try fails, and an operator can requeue it', async () => {
    const ledgerId = (await stack.ledgers.createLedger({ name: 'retry', currencies: ['USD'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
    const broken = await stack.startWorker({
      appliers: { TRANSACTION: async () => Promise.reject(new Error('applier bug')) },
      limits: { backoff: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 } },
    });
    const [op] = await accept([credit(ledgerId, 'doomed', 5n)]);
    let failed: Operation | undefined;
    try {
      [failed] = await allEnded([op!.id]);
    } finally {
      await broken.stop();
    }
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 3, error: { code: RETRIES_EXHAUSTED } });
    expect(failed?.error?.details['last_error']).toContain('applier bug');
    expect(await entriesOf(ledgerId)).toEqual([]);

    // The operator's tool, as run from a shell: list, then requeue.
    const listed = await requeueTool([]);
    expect(listed.stdout).toContain(op!.id);
    const requeued = await requeueTool([op!.id]);
    expect([requeued.code, requeued.stdout]).toEqual([0, `${op!.id}: requeued (version 4)\n`]);
    expect(await stack.operations.getOperation(op!.id, EVERY_TENANT)).toMatchObject({ status: 'PENDING', error: null });
    const healthy = await stack.startWorker();
    try {
      const [done] = await allEnded([op!.id]);
      expect(done?.status).toBe('COMPLETED');
      expect((await stack.ledgers.getBalances(ledgerId, EVERY_TENANT))[0]?.amount).toBe(5n);
    } finally {
      await healthy.stop();
    }
    const refused = await requeueTool([op!.id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is COMPLETED: only operations FAILED RETRIES_EXHAUSTED can be requeued');
  });
});

describe('retention', () => {
  it('drops results after the retention period but keeps the transaction id taken', async () => {
    const ledgerId = (await stack.ledgers.createLedger({ name: 'old', currencies: ['USD'], overdraftAllowed: false, requestId: '' }, EVERY_TENANT)).id;
    const worker = await stack.startWorker({ limits: { retentionMs: 0 } });
    try {
      const [op] = await accept([credit(ledgerId, 'ancient', 3n)]);
      await allEnded([op!.id]);
      expect(await worker.prune()).toBeGreaterThan(0);
      const gone = await stack.operations.getOperation(op!.id, EVERY_TENANT).catch((e: unknown) => e);
      expect((gone as TallyError).code).toBe('NOT_FOUND');
      const [again] = await stack.operations.accept([credit(ledgerId, 'ancient', 3n)]);
      expect(again?.ok === false && again.error.code).toBe('ALREADY_EXISTS');
      expect((await stack.ledgers.getBalances(ledgerId, EVERY_TENANT))[0]?.amount).toBe(3n);
      expect(await entriesOf(ledgerId)).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  });
});
