import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { LedgerService, TransactionType } from '@tally/contracts';
import { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from './support/audit.js';
import { spawnTally, type TallyProcess } from './support/process.js';
import { isolatedEnv } from './support/server.js';
import { eventually } from './support/stack.js';

/**
 * Faults against the real process: SIGKILL mid-load, SIGTERM mid-load, and Redis losing every
 * queue. Clients retry what they could not get an answer for, with the same transaction ids,
 * as a careful client does. Whatever happens, each accepted operation ends applied exactly
 * once: balances equal the sum of what was accepted, and the books balance.
 */
const env = { ...isolatedEnv('faults', 7), TALLY_PARTITIONS: '4' };
const LEDGERS = 10;
let db: pg.Client;
let redis: Redis;

beforeAll(async () => {
  db = new pg.Client({ connectionString: env.DATABASE_URL });
  // The first process creates and migrates the database.
  const first = await spawnTally(env);
  first.child.kill('SIGTERM');
  await first.exited;
  await db.connect();
  redis = new Redis(env.REDIS_URL);
});
afterAll(async () => {
  await db.end();
  redis.disconnect();
});

function client(p: TallyProcess): Client<typeof LedgerService> {
  return createClient(LedgerService, createConnectTransport({ baseUrl: `http://127.0.0.1:${p.httpPort}`, httpVersion: '1.1' }));
}

/** `count` credits of 1..10 over the ledgers, as batches of 50; each batch retried until answered. */
function plan(run: string, ledgerIds: string[], count: number) {
  return Array.from({ length: count / 50 }, (_, b) =>
    Array.from({ length: 50 }, (_, i) => {
      const n = b * 50 + i;
      return { ledgerId: ledgerIds[n % ledgerIds.length]!, transactionId: `${run}-${n}`, type: TransactionType.CREDIT, amount: BigInt(1 + (n % 10)), currency: 'USD' };
    }),
  );
}

async function submitAll(getClient: () => Client<typeof LedgerService>, batches: ReturnType<typeof plan>): Promise<void> {
  for (const transactions of batches) {
    for (let attempt = 0; ; attempt++) {
      try {
        const { results } = await getClient().submitTransactions({ transactions });
        if (results.every((r) => r.outcome.case === 'operation')) break;
        throw new Error(`refused: ${results.find((r) => r.outcome.case === 'error')?.outcome.value?.toString()}`);
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

async function createLedgers(c: Client<typeof LedgerService>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < LEDGERS; i++) ids.push((await c.createLedger({ name: `fault ${i}`, currencies: ['USD'] })).ledger!.id);
  return ids;
}

async function unfinished(run: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `select count(*)::text as n from operations.operation where transaction_id like $1 and status in ('PENDING', 'PROCESSING')`,
    [`${run}-%`],
  );
  return Number(rows[0]!.n);
}

async function expectExactlyOnce(run: string, ledgerIds: string[], batches: ReturnType<typeof plan>, c: Client<typeof LedgerService>) {
  expect(await eventually(() => unfinished(run), (n) => n === 0, 90_000)).toBe(0);
  const { rows } = await db.query<{ status: string; n: string }>(
    `select status, count(*)::text as n from operations.operation where transaction_id like $1 group by status`,
    [`${run}-%`],
  );
  expect(rows).toEqual([{ status: 'COMPLETED', n: String(batches.flat().length) }]);
  const expected = new Map<string, bigint>();
  for (const t of batches.flat()) expected.set(t.ledgerId, (expected.get(t.ledgerId) ?? 0n) + t.amount);
  for (const ledgerId of ledgerIds) {
    const { balances } = await c.getBalances({ ledgerId });
    expect([ledgerId, balances[0]?.amount]).toEqual([ledgerId, expected.get(ledgerId)]);
  }
  expect(await audit(ledgerIds, env.DATABASE_URL)).toEqual({ currenciesNotZero: [], balancesNotEntries: [], operationsWithoutOneEntry: [] });
  // And the operator's audit over the whole database this suite owns: `npm run audit`, as built.
  const report = await auditTool();
  expect([report.code, report.stdout]).toEqual([0, expect.stringContaining('0 in flight')]);
  expect(report.stdout).not.toContain('FAIL');
}

function auditTool(): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['apps/server/dist/audit.js'], { env: { ...process.env, ...env } }, (error, stdout) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    ),
  );
}

describe('faults', () => {
  it('SIGKILL mid-load loses nothing and applies nothing twice', { timeout: 180_000 }, async () => {
    let tally = await spawnTally(env);
    const ledgerIds = await createLedgers(client(tally));
    const run = `kill-${Date.now()}`;
    const batches = plan(run, ledgerIds, 2_000);
    const submitting = submitAll(() => client(tally), batches);
    // Kill once a good part is accepted, then start again while the client keeps retrying.
    const accepted = () =>
      db.query(`select count(*)::int as n from operations.operation where transaction_id like $1`, [`${run}-%`]).then((r) => r.rows[0].n as number);
    expect(await eventually(accepted, (n) => n > 600, 30_000)).toBeGreaterThan(600);
    tally.child.kill('SIGKILL');
    await tally.exited;
    tally = await spawnTally(env);
    await submitting;
    await expectExactlyOnce(run, ledgerIds, batches, client(tally));
    tally.child.kill('SIGTERM');
    expect(await tally.exited).toBe(0);
  });

  it('SIGKILL while transfers are being applied: each ends with its money on exactly one side', { timeout: 180_000 }, async () => {
    let tally = await spawnTally(env);
    const ledgerIds = await createLedgers(client(tally));
    const run = `transfer-${Date.now()}`;
    const funding = [ledgerIds.map((ledgerId, i) => ({ ledgerId, transactionId: `${run}-fund-${i}`, type: TransactionType.CREDIT, amount: 10_000n, currency: 'USD' }))];
    await submitAll(() => client(tally), funding);
    expect(await eventually(() => unfinished(run), (n) => n === 0, 30_000)).toBe(0);
    // A ring of transfers, ledger i to ledger i + 1 (mostly across partitions), 1 to 10 each.
    const transfers = Array.from({ length: 600 }, (_, n) => ({
      fromLedgerId: ledgerIds[n % LEDGERS]!,
      toLedgerId: ledgerIds[(n + 1) % LEDGERS]!,
      transactionId: `${run}-${n}`,
      currency: 'USD',
      amount: BigInt(1 + (n % 10)),
    }));
    const submitOne = async (request: (typeof transfers)[number]) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await client(tally).submitTransfer(request);
        } catch (error) {
          if (attempt > 200) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const lanes = 4;
    const submitting = Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let n = lane; n < transfers.length; n += lanes) await submitOne(transfers[n]!);
      }),
    );
    const accepted = () =>
      db.query(`select count(*)::int as n from operations.operation where kind = 'TRANSFER' and transaction_id like $1`, [`${run}-%`]).then((r) => r.rows[0].n as number);
    expect(await eventually(accepted, (n) => n > 200, 30_000)).toBeGreaterThan(200);
    tally.child.kill('SIGKILL');
    await tally.exited;
    tally = await spawnTally(env);
    await submitting;

    expect(await eventually(() => unfinished(run), (n) => n === 0, 90_000)).toBe(0);
    const { rows } = await db.query<{ status: string; n: string }>(
      `select status, count(*)::text as n from operations.operation where kind = 'TRANSFER' and transaction_id like $1 group by status`,
      [`${run}-%`],
    );
    expect(rows).toEqual([{ status: 'COMPLETED', n: String(transfers.length) }]);
    const expected = new Map(ledgerIds.map((id) => [id, 10_000n]));
    for (const t of transfers) {
      expected.set(t.fromLedgerId, expected.get(t.fromLedgerId)! - t.amount);
      expected.set(t.toLedgerId, expected.get(t.toLedgerId)! + t.amount);
    }
    for (const ledgerId of ledgerIds) {
      const { balances } = await client(tally).getBalances({ ledgerId });
      expect([ledgerId, balances[0]?.amount]).toEqual([ledgerId, expected.get(ledgerId)]);
    }
    const report = await auditTool();
    expect([report.code, report.stdout]).toEqual([0, expect.stringContaining('0 in flight')]);
    expect(report.stdout).toContain('ok   ended transfers that left money in TRANSIT: none');
    tally.child.kill('SIGTERM');
    expect(await tally.exited).toBe(0);
  });

  it('SIGTERM mid-load stops cleanly: no operation is left PROCESSING', { timeout: 180_000 }, async () => {
    let tally = await spawnTally(env);
    const ledgerIds = await createLedgers(client(tally));
    const run = `term-${Date.now()}`;
    const batches = plan(run, ledgerIds, 2_000);
    await submitAll(() => client(tally), batches.slice(0, 20));
    tally.child.kill('SIGTERM');
    expect(await tally.exited).toBe(0);
    const { rows } = await db.query(`select count(*)::int as n from operations.operation where status = 'PROCESSING'`);
    expect(rows[0].n).toBe(0);
    tally = await spawnTally(env);
    await submitAll(() => client(tally), batches.slice(20));
    await expectExactlyOnce(run, ledgerIds, batches, client(tally));
    tally.child.kill('SIGTERM');
    await tally.exited;
  });

  it('Redis losing every queue entry (FLUSHDB) still ends with each operation applied once', { timeout: 180_000 }, async () => {
    const tally = await spawnTally({ ...env, TALLY_ROLE: 'api' });
    const ledgerIds = await createLedgers(client(tally));
    const run = `flush-${Date.now()}`;
    const batches = plan(run, ledgerIds, 2_000);
    await submitAll(() => client(tally), batches);
    await redis.flushdb();
    expect(await unfinished(run)).toBe(2_000);
    const worker = await spawnTally({ ...env, TALLY_ROLE: 'all' });
    try {
      await expectExactlyOnce(run, ledgerIds, batches, client(tally));
    } finally {
      worker.child.kill('SIGTERM');
      tally.child.kill('SIGTERM');
      await Promise.all([worker.exited, tally.exited]);
    }
  });
});

