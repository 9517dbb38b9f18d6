import { ExchangeService, LedgerService, OperationService, OperationStatus, TransactionType, type Operation } from '@tally/contracts';
import { money } from '@tally/currencies';
import { startRatesMock, type RatesMock } from '@tally/rates-mock';
import { createLogger, loadConfig } from '@tally/platform';
import { openInfrastructure } from '@tally/runtime';
import { audit, isClean } from '@tally/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settled } from './support/operations.js';
import { isolatedEnv, startTestServer, type TestServer } from './support/server.js';

/**
 * Issue #9, defect 5: the system accounts on the other side of every posting (EXTERNAL, FX,
 * TRANSIT) are shared by every ledger of a partition. One caller moving int64 max through them
 * must not leave them at an edge that fails every other ledger's operations in that currency.
 * One partition, so every ledger here shares the same system accounts. Its own database: the
 * suite drives system accounts far beyond int64, which no other suite expects to meet.
 */
const env = { ...isolatedEnv('sysacct', 15), TALLY_PARTITIONS: '1' };
let provider: RatesMock;
let t: TestServer;

beforeAll(async () => {
  provider = await startRatesMock({ port: 0 });
  t = await startTestServer({ ...env, TALLY_RATES_URL: provider.url });
});
afterAll(async () => {
  await t?.stop();
  await provider?.close();
});

const ledgers = () => t.connectClient(LedgerService);
const exchange = () => t.connectClient(ExchangeService);
const done = (op: Operation | undefined) => settled((r) => t.connectClient(OperationService).getOperation(r), op!.id);
let run = 0;

async function ledger(currencies: string[], overdraftAllowed = false): Promise<string> {
  return (await ledgers().createLedger({ name: `system accounts ${++run}`, currencies, overdraftAllowed })).ledger!.id;
}

async function transact(ledgerId: string, type: TransactionType, amount: bigint, currency: string): Promise<Operation> {
  const { operation } = await ledgers().submitTransaction({ ledgerId, transactionId: `t-${++run}`, type, amount, currency });
  return done(operation);
}

async function balances(ledgerId: string): Promise<Record<string, bigint>> {
  const { balances: list } = await ledgers().getBalances({ ledgerId });
  return Object.fromEntries(list.map((b) => [b.currency, b.amount]));
}

describe('system accounts shared by the ledgers of a partition', () => {
  it("take a credit of int64 max to one ledger without refusing another ledger's credits", async () => {
    const whale = await ledger(['SEK']);
    expect(await transact(whale, TransactionType.CREDIT, money.INT64_MAX, 'SEK')).toMatchObject({ status: OperationStatus.COMPLETED });

    const neighbour = await ledger(['SEK']);
    expect(await transact(neighbour, TransactionType.CREDIT, 100n, 'SEK')).toMatchObject({ status: OperationStatus.COMPLETED });
    expect(await transact(neighbour, TransactionType.DEBIT, 40n, 'SEK')).toMatchObject({ status: OperationStatus.COMPLETED });
    expect(await balances(neighbour)).toEqual({ SEK: 60n });

    // A ledger's own balance is still bounded by int64: that limit is its own, never another's.
    expect(await transact(whale, TransactionType.CREDIT, 1n, 'SEK')).toMatchObject({ status: OperationStatus.FAILED, error: { code: 'BALANCE_OUT_OF_RANGE' } });
    expect(await balances(whale)).toEqual({ SEK: money.INT64_MAX });
  });

  it("take a debit of int64 max paid out of one ledger without refusing another ledger's debits", async () => {
    const spender = await ledger(['NOK'], true);
    expect(await transact(spender, TransactionType.DEBIT, money.INT64_MAX, 'NOK')).toMatchObject({ status: OperationStatus.COMPLETED });

    const neighbour = await ledger(['NOK'], true);
    expect(await transact(neighbour, TransactionType.DEBIT, 100n, 'NOK')).toMatchObject({ status: OperationStatus.COMPLETED });
    expect(await balances(neighbour)).toEqual({ NOK: -100n });
    expect(await balances(spender)).toEqual({ NOK: -money.INT64_MAX });
  });

  it("take an exchange of int64 max through the FX accounts without refusing another ledger's exchanges", async () => {
    const whale = await ledger(['DKK', 'EUR']);
    expect(await transact(whale, TransactionType.CREDIT, money.INT64_MAX, 'DKK')).toMatchObject({ status: OperationStatus.COMPLETED });
    const big = await exchange().submitExchange({ ledgerId: whale, transactionId: 'all-of-it', fromCurrency: 'DKK', toCurrency: 'EUR', amount: money.INT64_MAX });
    expect(await done(big.operation)).toMatchObject({ status: OperationStatus.COMPLETED });
    expect((await balances(whale))['DKK']).toBe(0n);

    const neighbour = await ledger(['DKK', 'EUR']);
    expect(await transact(neighbour, TransactionType.CREDIT, 1_000n, 'DKK')).toMatchObject({ status: OperationStatus.COMPLETED });
    const small = await exchange().submitExchange({ ledgerId: neighbour, transactionId: 'some', fromCurrency: 'DKK', toCurrency: 'EUR', amount: 1_000n });
    const op = await done(small.operation);
    expect(op).toMatchObject({ status: OperationStatus.COMPLETED });
    expect(await balances(neighbour)).toMatchObject({ DKK: 0n, EUR: op.result!.balanceChanges.find((c) => c.currency === 'EUR')!.amount });
  });

  it('leave books the audit finds whole: every balance equals its entries, every currency sums to zero', async () => {
    const infra = await openInfrastructure(loadConfig(env), createLogger('silent'));
    try {
      const report = await audit(infra);
      expect(report).toMatchObject({ currenciesNotZero: [], accountsNotMatchingEntries: [], unbalancedPostings: [], operationsWithWrongEffects: [] });
      expect(isClean(report)).toBe(true);
    } finally {
      await infra.close();
    }
  });
});
