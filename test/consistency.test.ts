import { LedgerService, OperationService, OperationStatus, TransactionType } from '@tally/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from './support/audit.js';
import { prng, runModel, type ModelOp } from './support/model.js';
import { testSeed } from './support/seed.js';
import { startTestServer, type TestServer } from './support/server.js';
import { eventually } from './support/stack.js';

/**
 * 10,000 random credits and debits over 50 ledgers, submitted in batches through the API,
 * end exactly as the sequential model says: same balances, same outcome for every operation,
 * every balance equal to the sum of its entries, one entry per completed operation. The
 * operations follow from the seed: TALLY_TEST_SEED replays them.
 */
const OPS = 10_000;
const LEDGERS = 50;
const BATCH = 100;
const { value: seed, replay } = testSeed();

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

describe(`random credits and debits (${replay})`, () => {
  it('end with balances and outcomes equal to a sequential model', { timeout: 240_000 }, async () => {
    const random = prng(seed);
    const ledgers = t.connectClient(LedgerService);
    const operations = t.connectClient(OperationService);
    const ids: string[] = [];
    for (let i = 0; i < LEDGERS; i++) ids.push((await ledgers.createLedger({ name: `model ${i}`, currencies: ['USD'] })).ledger!.id);
    const model: ModelOp[] = Array.from({ length: OPS }, () => ({
      ledgerId: ids[Math.floor(random() * LEDGERS)]!,
      // Debits a little more likely than credits' share of money, so that some fail.
      type: random() < 0.55 ? 'CREDIT' : 'DEBIT',
      amount: BigInt(1 + Math.floor(random() * 1_000)),
    }));

    const operationIds: string[] = [];
    for (let start = 0; start < OPS; start += BATCH) {
      const { results } = await ledgers.submitTransactions({
        transactions: model.slice(start, start + BATCH).map((op, i) => ({
          ledgerId: op.ledgerId,
          transactionId: `model-${seed}-${start + i}`,
          type: op.type === 'CREDIT' ? TransactionType.CREDIT : TransactionType.DEBIT,
          amount: op.amount,
          currency: 'USD',
        })),
      });
      for (const r of results) {
        if (r.outcome.case !== 'operation') throw new Error(`${replay}: item ${start + r.index} refused: ${r.outcome.value?.message}`);
        operationIds.push(r.outcome.value.id);
      }
    }

    const expected = runModel(model);
    // Wait for the last operation of every ledger (each ledger applies in order).
    const lastOfLedger = new Map<string, string>();
    model.forEach((op, i) => lastOfLedger.set(op.ledgerId, operationIds[i]!));
    for (const id of lastOfLedger.values()) {
      await eventually(
        () => operations.getOperation({ operationId: id }),
        (r) => r.operation!.status === OperationStatus.COMPLETED || r.operation!.status === OperationStatus.FAILED,
        120_000,
      );
    }

    for (const [i, ledgerId] of ids.entries()) {
      const { balances } = await ledgers.getBalances({ ledgerId });
      expect(balances[0]?.amount, `${replay}: ledger #${i}'s balance`).toBe(expected.balances.get(ledgerId) ?? 0n);
    }
    // Every operation's outcome, read page by page per ledger.
    const seen = new Map<string, OperationStatus>();
    for (const ledgerId of ids) {
      let pageToken = '';
      do {
        const page = await operations.listOperations({ ledgerId, pageSize: 500, pageToken });
        for (const op of page.operations) seen.set(op.id, op.status);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
    }
    const mismatches = operationIds
      .map((id, i) => ({ i, id, want: expected.outcomes[i], got: OperationStatus[seen.get(id) ?? 0] }))
      .filter((m) => m.want !== m.got);
    expect(mismatches.slice(0, 5), `${replay}: outcomes unlike the model's (the first 5)`).toEqual([]);
    expect(await audit(ids), `${replay}: the audit`).toEqual({ currenciesNotZero: [], balancesNotEntries: [], operationsWithoutOneEntry: [] });
  });
});
