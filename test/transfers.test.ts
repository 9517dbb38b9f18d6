import { Code } from '@connectrpc/connect';
import { LedgerService, OperationKind, OperationService, OperationStatus, StepStatus, TransactionType, type Operation } from '@tally/contracts';
import { partitionOf, RETRIES_EXHAUSTED } from '@tally/operations';
import { createLogger, loadConfig } from '@tally/platform';
import { audit, isClean, type AuditReport } from '@tally/server';
import { appliersFor, openInfrastructure } from '@tally/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDetails, connectRefusal } from './support/errors.js';
import { settled } from './support/operations.js';
import { isolatedEnv, startTestServer, type TestServer } from './support/server.js';
import { openStack, PARTITIONS, type Stack } from './support/stack.js';

/**
 * Transfers between ledgers, through the API: each leg in its own ledger's order (the ledgers
 * sit in different partitions), the money in TRANSIT in between, and, when the target cannot
 * take it any more, a compensating credit that returns it. The API server runs no worker: the
 * suite starts and stops one (with the stack) to hold an accepted transfer where it wants it.
 */
const env = { ...isolatedEnv('transfers', 10), TALLY_PARTITIONS: String(PARTITIONS) };
let api: TestServer;
let stack: Stack;
let stopWorker: () => Promise<void>;

async function startWorker(): Promise<void> {
  const worker = await stack.startWorker();
  stopWorker = () => worker.stop();
}

beforeAll(async () => {
  api = await startTestServer({ ...env, TALLY_ROLE: 'api' });
  stack = await openStack('transfers', 10);
  await startWorker();
});
afterAll(async () => {
  await stopWorker();
  await api.stop();
  await stack.close();
});

const ledgers = () => api.connectClient(LedgerService);
const operations = () => api.connectClient(OperationService);
const done = (op: Operation | undefined) => settled((r) => operations().getOperation(r), op!.id);
const steps = (op: Operation) => op.steps.map((s) => `${s.name} ${StepStatus[s.status]}`);
let run = 0;

/** Two ledgers in different partitions, the source holding 100.00 of each currency. */
async function pair(currencies: string[] = ['EUR']): Promise<{ source: string; target: string }> {
  run++;
  const source = (await ledgers().createLedger({ name: `source ${run}`, currencies })).ledger!.id;
  let target: string;
  do target = (await ledgers().createLedger({ name: `target ${run}`, currencies })).ledger!.id;
  while (partitionOf(target, PARTITIONS) === partitionOf(source, PARTITIONS));
  for (const currency of currencies) {
    const { operation } = await ledgers().submitTransaction({
      ledgerId: source,
      transactionId: `fund-${currency}`,
      type: TransactionType.CREDIT,
      amount: 10_000n,
      currency,
    });
    expect((await done(operation)).status).toBe(OperationStatus.COMPLETED);
  }
  return { source, target };
}

/** `npm run audit`'s report on this suite's database. */
async function auditReport(): Promise<AuditReport> {
  const infra = await openInfrastructure(loadConfig(env), createLogger('silent'));
  try {
    return await audit(infra);
  } finally {
    await infra.close();
  }
}

async function balance(ledgerId: string, currency: string): Promise<bigint> {
  const { balances } = await ledgers().getBalances({ ledgerId });
  return balances.find((b) => b.currency === currency)!.amount;
}

describe('SubmitTransfer', () => {
  it('moves money between ledgers of different partitions, debit then credit, with every step recorded', async () => {
    const { source, target } = await pair();
    const { operation: accepted } = await ledgers().submitTransfer({
      fromLedgerId: source,
      toLedgerId: target,
      transactionId: 'rent',
      currency: 'EUR',
      amount: 2_500n,
      metadata: { memo: 'november' },
    });
    expect(accepted).toMatchObject({ kind: OperationKind.TRANSFER, status: OperationStatus.PENDING, ledgerId: source, toLedgerId: target });

    const op = await done(accepted);
    expect(op.status).toBe(OperationStatus.COMPLETED);
    expect(steps(op)).toEqual(['SOURCE_DEBITED COMPLETED', 'TARGET_CREDITED COMPLETED', 'COMPLETED COMPLETED']);
    expect(op.result?.balanceChanges.map((c) => [c.ledgerId, c.amount, c.balanceAfter])).toEqual([
      [source, -2_500n, 7_500n],
      [target, 2_500n, 2_500n],
    ]);
    expect(await balance(source, 'EUR')).toBe(7_500n);
    expect(await balance(target, 'EUR')).toBe(2_500n);

    // History: each side's entry links back to the transfer, which is listed on both ledgers.
    for (const [ledgerId, amount] of [[source, -2_500n], [target, 2_500n]] as const) {
      const { entries } = await ledgers().listEntries({ ledgerId });
      expect(entries[0]).toMatchObject({ operationId: op.id, amount, transactionId: 'rent' });
      const { operations: listed } = await operations().listOperations({ ledgerId, kind: OperationKind.TRANSFER });
      expect(listed.map((o) => o.id)).toEqual([op.id]);
    }

    // The same transaction id and request: the same operation, nothing moves twice.
    const again = await ledgers().submitTransfer({ fromLedgerId: source, toLedgerId: target, transactionId: 'rent', currency: 'EUR', amount: 2_500n, metadata: { memo: 'november' } });
    expect(again.operation?.id).toBe(op.id);
    expect(await balance(source, 'EUR')).toBe(7_500n);
  });

  it('streams every step to the watchers of both ledgers', async () => {
    const { source, target } = await pair();
    const seen: Record<string, string[]> = { [source]: [], [target]: [] };
    const abort = new AbortController();
    const watching = [source, target].map(async (ledgerId) => {
      try {
        for await (const m of operations().watchLedger({ ledgerId }, { signal: abort.signal })) {
          if (m.event.case === 'operation') seen[ledgerId]!.push(`op v${m.event.value.version} ${OperationStatus[m.event.value.status]} ${m.event.value.steps.length} steps`);
          if (m.event.case === 'balanceChange') seen[ledgerId]!.push(`balance ${m.event.value.amount}`);
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      }
    });
    await new Promise((r) => setTimeout(r, 300)); // let the watches subscribe
    const { operation } = await ledgers().submitTransfer({ fromLedgerId: source, toLedgerId: target, transactionId: 'watched', currency: 'EUR', amount: 100n });
    const op = await done(operation);
    await expect.poll(() => seen[target]!.some((e) => e.includes('COMPLETED')), { timeout: 10_000 }).toBe(true);
    abort.abort();
    await Promise.all(watching);

    expect(seen[source]).toContain('balance -100');
    expect(seen[target]).toContain('balance 100');
    // The debit and the credit are separate commits, each a version of its own.
    const versions = seen[target]!.filter((e) => e.startsWith('op'));
    expect(versions.at(-1)).toBe(`op v${op.version} COMPLETED 3 steps`);
    expect(versions).toContain('op v3 PROCESSING 1 steps');
  });

  it('ends FAILED with nothing moved when the source cannot pay', async () => {
    const { source, target } = await pair();
    const { operation } = await ledgers().submitTransfer({ fromLedgerId: source, toLedgerId: target, transactionId: 'too-much', currency: 'EUR', amount: 10_001n });
    const op = await done(operation);
    expect(op).toMatchObject({ status: OperationStatus.FAILED, error: { code: 'INSUFFICIENT_FUNDS' } });
    expect(steps(op)).toEqual(['SOURCE_DEBITED FAILED']);
    expect(await balance(source, 'EUR')).toBe(10_000n);
    expect(await balance(target, 'EUR')).toBe(0n);
  });

  it('returns the money to the source when the target currency was disabled after acceptance, and shows the compensation', async () => {
    const { source, target } = await pair();
    await stopWorker();
    const { operation } = await ledgers().submitTransfer({ fromLedgerId: source, toLedgerId: target, transactionId: 'bounced', currency: 'EUR', amount: 4_000n });
    expect(operation?.status).toBe(OperationStatus.PENDING);
    const { ledger } = await ledgers().disableCurrency({ ledgerId: target, currency: 'EUR' });
    expect(ledger?.currencies).toEqual([]);
    await startWorker();

    const op = await done(operation);
    expect(op).toMatchObject({
      status: OperationStatus.FAILED,
      error: { code: 'CURRENCY_NOT_ENABLED', details: { ledger_id: target, currency: 'EUR', restored_to: source } },
    });
    expect(steps(op)).toEqual(['SOURCE_DEBITED COMPLETED', 'TARGET_CREDITED FAILED', 'SOURCE_RESTORED COMPLETED']);
    expect(op.result?.balanceChanges.map((c) => [c.ledgerId, c.amount])).toEqual([
      [source, -4_000n],
      [source, 4_000n],
    ]);
    expect(await balance(source, 'EUR')).toBe(10_000n);
    expect(await balance(target, 'EUR')).toBe(0n);
    const { entries } = await ledgers().listEntries({ ledgerId: source, currency: 'EUR' });
    expect(entries.slice(0, 2).map((e) => [e.operationId, e.amount])).toEqual([
      [op.id, 4_000n],
      [op.id, -4_000n],
    ]);
  });

  it('refuses, before accepting, a transfer the ledgers cannot take', async () => {
    const { source, target } = await pair(['EUR', 'JPY']);
    await ledgers().disableCurrency({ ledgerId: target, currency: 'JPY' });
    const disabled = await connectRefusal(ledgers().submitTransfer({ fromLedgerId: source, toLedgerId: target, transactionId: 'jpy', currency: 'JPY', amount: 1n }));
    expect(disabled.code).toBe(Code.FailedPrecondition);
    expect(connectDetails(disabled).errorInfo).toMatchObject({ reason: 'CURRENCY_NOT_ENABLED', metadata: { ledger_id: target, currency: 'JPY' } });

    const missing = await connectRefusal(
      ledgers().submitTransfer({ fromLedgerId: source, toLedgerId: '0190a000-0000-7000-8000-00000000dead', transactionId: 'x', currency: 'EUR', amount: 1n }),
    );
    expect(missing.code).toBe(Code.NotFound);
    expect(connectDetails(missing).resourceInfo).toMatchObject({ resourceType: 'ledger', resourceName: '0190a000-0000-7000-8000-00000000dead' });

    const reused = await connectRefusal(ledgers().submitTransfer({ fromLedgerId: source, toLedgerId: target, transactionId: 'fund-EUR', currency: 'EUR', amount: 1n }));
    expect(reused.code).toBe(Code.AlreadyExists);
  });

  it('keeps a transfer whose credit ran out of retries in TRANSIT, says so, and completes it once requeued', async () => {
    const { source, target } = await pair();
    await stopWorker();
    let creditBroken = true;
    const real = appliersFor(stack.ledgers, stack.exchange);
    const worker = await stack.startWorker({
      appliers: {
        ...real,
        TRANSFER: (context, ops) => {
          if (creditBroken && ops.some((op) => op.stage > 0)) return Promise.reject(new Error('the target side is broken'));
          return real.TRANSFER!(context, ops);
        },
      },
      limits: { backoff: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 } },
    });
    stopWorker = () => worker.stop();

    const { operation } = await ledgers().submitTransfer({ fromLedgerId: source, toLedgerId: target, transactionId: 'stuck', currency: 'EUR', amount: 600n });
    const failed = await done(operation);
    expect(failed).toMatchObject({ status: OperationStatus.FAILED, error: { code: RETRIES_EXHAUSTED } });
    expect(steps(failed)).toEqual(['SOURCE_DEBITED COMPLETED']);
    expect([await balance(source, 'EUR'), await balance(target, 'EUR')]).toEqual([9_400n, 0n]);
    const waiting = await auditReport();
    expect(waiting.awaitingRequeueInTransit.join('\n')).toContain(failed.id);
    expect(isClean(waiting)).toBe(true);

    creditBroken = false;
    await stack.operations.requeue(failed.id);
    const completed = await done(operation);
    expect(completed.status).toBe(OperationStatus.COMPLETED);
    expect(steps(completed)).toEqual(['SOURCE_DEBITED COMPLETED', 'TARGET_CREDITED COMPLETED', 'COMPLETED COMPLETED']);
    expect([await balance(source, 'EUR'), await balance(target, 'EUR')]).toEqual([9_400n, 600n]);
    expect((await auditReport()).awaitingRequeueInTransit.join('\n')).not.toContain(failed.id);

    await stopWorker();
    await startWorker();
  });

  it('leaves books the audit finds nothing wrong with', async () => {
    const report = await auditReport();
    expect(report.operationsLeftInTransit).toEqual([]);
    expect(report.operationsWithWrongEffects).toEqual([]);
    expect(isClean(report)).toBe(true);
  });
});
