import { Code } from '@connectrpc/connect';
import { LedgerService, OperationService, OperationStatus, TransactionType } from '@tally/contracts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDetails, connectRefusal } from './support/errors.js';
import { settled } from './support/operations.js';
import { startTestServer, type TestServer } from './support/server.js';

/** Credits and debits, accepted by the API and applied by the in-process worker. */
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

const lc = () => t.connectClient(LedgerService);
const oc = () => t.connectClient(OperationService);

async function newLedger(currencies = ['USD']): Promise<string> {
  return (await lc().createLedger({ name: 'async', currencies })).ledger!.id;
}

describe('SubmitTransaction', () => {
  it('accepts a credit as PENDING, applies it, and books it as an entry', async () => {
    const ledgerId = await newLedger();
    const { operation } = await lc().submitTransaction({
      ledgerId,
      transactionId: 'credit-1',
      type: TransactionType.CREDIT,
      amount: 1050n,
      currency: 'USD',
      metadata: { source: 'test' },
    });
    expect(operation).toMatchObject({ status: OperationStatus.PENDING, version: 1n, ledgerId, transactionId: 'credit-1' });
    const done = await settled((r) => oc().getOperation(r), operation!.id);
    expect(done).toMatchObject({ status: OperationStatus.COMPLETED });
    expect(done.version).toBe(3n);
    expect(done.result?.balanceChanges).toMatchObject([{ ledgerId, currency: 'USD', amount: 1050n, balanceAfter: 1050n }]);
    expect((await lc().getBalances({ ledgerId })).balances).toMatchObject([{ currency: 'USD', amount: 1050n }]);
    const { entries } = await lc().listEntries({ ledgerId });
    expect(entries).toMatchObject([{ operationId: operation!.id, transactionId: 'credit-1', amount: 1050n, balanceAfter: 1050n }]);
  });

  it('fails a debit beyond the balance with INSUFFICIENT_FUNDS and leaves the balance alone', async () => {
    const ledgerId = await newLedger();
    const credit = await lc().submitTransaction({ ledgerId, transactionId: 'c', type: TransactionType.CREDIT, amount: 500n, currency: 'USD' });
    const debit = await lc().submitTransaction({ ledgerId, transactionId: 'd', type: TransactionType.DEBIT, amount: 501n, currency: 'USD' });
    await settled((r) => oc().getOperation(r), credit.operation!.id);
    const failed = await settled((r) => oc().getOperation(r), debit.operation!.id);
    expect(failed.status).toBe(OperationStatus.FAILED);
    expect(failed.error).toMatchObject({ code: 'INSUFFICIENT_FUNDS', details: { balance: '500', amount: '501' } });
    expect((await lc().getBalances({ ledgerId })).balances[0]?.amount).toBe(500n);
  });

  it('returns the same operation for the same transaction id and payload, and refuses a different payload', async () => {
    const ledgerId = await newLedger();
    const request = { ledgerId, transactionId: 'dup', type: TransactionType.CREDIT, amount: 7n, currency: 'USD' };
    const first = await lc().submitTransaction(request);
    const again = await lc().submitTransaction(request);
    expect(again.operation?.id).toBe(first.operation?.id);
    const other = await connectRefusal(lc().submitTransaction({ ...request, amount: 8n }));
    expect(other.code).toBe(Code.AlreadyExists);
    expect(connectDetails(other).errorInfo?.metadata['operation_id']).toBe(first.operation?.id);
  });

  it('applies concurrent duplicate submits once', async () => {
    const ledgerId = await newLedger();
    const request = { ledgerId, transactionId: `same-${randomUUID()}`, type: TransactionType.CREDIT, amount: 100n, currency: 'USD' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => lc().submitTransaction(request)));
    expect(new Set(answers.map((a) => a.operation?.id)).size).toBe(1);
    await settled((r) => oc().getOperation(r), answers[0]!.operation!.id);
    expect((await lc().getBalances({ ledgerId })).balances[0]?.amount).toBe(100n);
    expect((await lc().listEntries({ ledgerId })).entries).toHaveLength(1);
  });

  it('refuses bad submits synchronously, naming each field', async () => {
    const ledgerId = await newLedger();
    const bad = await connectRefusal(
      lc().submitTransaction({ ledgerId, transactionId: 'has space', amount: -5n, currency: 'XYZ', metadata: { ['k'.repeat(65)]: 'v' } }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(connectDetails(bad).violations.map((v) => v.field)).toEqual(['transaction_id', 'type', 'amount', 'currency', `metadata["${'k'.repeat(65)}"]`]);
    const disabled = await connectRefusal(lc().submitTransaction({ ledgerId, transactionId: 'x', type: TransactionType.CREDIT, amount: 1n, currency: 'EUR' }));
    expect([disabled.code, connectDetails(disabled).errorInfo?.reason]).toEqual([Code.FailedPrecondition, 'CURRENCY_NOT_ENABLED']);
    const missing = await connectRefusal(
      lc().submitTransaction({ ledgerId: randomUUID(), transactionId: 'x', type: TransactionType.CREDIT, amount: 1n, currency: 'USD' }),
    );
    expect(missing.code).toBe(Code.NotFound);
  });
});

describe('SubmitTransactions', () => {
  it('accepts the valid items of a batch and reports each invalid one by index', async () => {
    const ledgerId = await newLedger();
    const { results } = await lc().submitTransactions({
      transactions: [
        { ledgerId, transactionId: 'b0', type: TransactionType.CREDIT, amount: 10n, currency: 'USD' },
        { ledgerId, transactionId: 'b1', type: TransactionType.CREDIT, amount: 0n, currency: 'USD' },
        { ledgerId, transactionId: 'b2', type: TransactionType.DEBIT, amount: 4n, currency: 'USD' },
        { ledgerId: randomUUID(), transactionId: 'b3', type: TransactionType.CREDIT, amount: 1n, currency: 'USD' },
      ],
    });
    expect(results.map((r) => [r.index, r.outcome.case])).toEqual([
      [0, 'operation'],
      [1, 'error'],
      [2, 'operation'],
      [3, 'error'],
    ]);
    expect(results[1]?.outcome.case === 'error' && results[1].outcome.value.code).toBe(Code.InvalidArgument);
    expect(results[3]?.outcome.case === 'error' && results[3].outcome.value.code).toBe(Code.NotFound);
    const last = results[2]!.outcome.case === 'operation' ? results[2]!.outcome.value.id : '';
    await settled((r) => oc().getOperation(r), last);
    expect((await lc().getBalances({ ledgerId })).balances[0]?.amount).toBe(6n);
  });

  it('refuses an empty batch and one over 1,000 items', async () => {
    expect((await connectRefusal(lc().submitTransactions({ transactions: [] }))).code).toBe(Code.InvalidArgument);
    const many = Array.from({ length: 1001 }, (_, i) => ({ ledgerId: randomUUID(), transactionId: `t${i}`, type: TransactionType.CREDIT, amount: 1n, currency: 'USD' }));
    expect((await connectRefusal(lc().submitTransactions({ transactions: many }))).code).toBe(Code.InvalidArgument);
  });
});
