import { Code } from '@connectrpc/connect';
import { ExchangeService, LedgerService, OperationKind, OperationService, OperationStatus, StepStatus, TransactionType } from '@tally/contracts';
import { conversion } from '@tally/currencies';
import { startRatesMock, type RatesMock } from '@tally/rates-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from './support/audit.js';
import { connectDetails, connectRefusal } from './support/errors.js';
import { settled } from './support/operations.js';
import { isolatedEnv, startTestServer, type TestServer } from './support/server.js';

/**
 * Rates from the external provider (the shipped mock, over HTTP), quotes, and converted
 * balances; then the provider going away: within the staleness bound the last rates serve,
 * beyond it there is no rate at all.
 */
const CACHE_TTL_MS = 200;
const STALENESS_MS = 1_500;
let provider: RatesMock;
let t: TestServer;

beforeAll(async () => {
  provider = await startRatesMock({ port: 0 });
  t = await startTestServer({
    ...isolatedEnv('rates', 8),
    TALLY_RATES_URL: provider.url,
    TALLY_RATES_CACHE_TTL_MS: String(CACHE_TTL_MS),
    TALLY_RATES_MAX_STALENESS_MS: String(STALENESS_MS),
  });
});
afterAll(async () => {
  await t.stop();
  await provider.close();
});

const exchange = () => t.connectClient(ExchangeService);
const ledgers = () => t.connectClient(LedgerService);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function providerRate(code: string): Promise<string> {
  const body = (await (await fetch(`${provider.url}/v1/rates?base=USD&symbols=${code}`)).json()) as { rates: Record<string, string> };
  return body.rates[code]!;
}

describe('rates and quotes', () => {
  it('answers the provider rate, exactly, with its age', async () => {
    const { rate } = await exchange().getRate({ fromCurrency: 'USD', toCurrency: 'JPY' });
    expect(rate?.rate).toBe(await providerRate('JPY'));
    expect(rate?.asOfTime).toBeDefined();
    expect(rate?.age).toBeDefined();
    // The cross rate is USD->EUR over USD->JPY, exactly, shown with 12 decimals.
    const cross = (await exchange().getRate({ fromCurrency: 'JPY', toCurrency: 'EUR' })).rate!.rate;
    const expected = conversion.chainRates(conversion.invertRate(conversion.parseRate(await providerRate('JPY'))!), conversion.parseRate(await providerRate('EUR'))!);
    expect(cross).toBe(conversion.formatRate(expected, 12));
  });

  it('locks a rate in a quote, with both amounts rounded half-even', async () => {
    const { quote } = await exchange().createQuote({ fromCurrency: 'USD', toCurrency: 'JPY', amount: 1_000n });
    const rate = conversion.parseRate(quote!.rate)!;
    expect(quote).toMatchObject({ fromCurrency: 'USD', toCurrency: 'JPY', fromAmount: 1_000n });
    expect(quote!.toAmount).toBe(conversion.convertMinorUnits(1_000n, 2, 0, rate));
    expect(quote!.expireTime).toBeDefined();
  });

  it('refuses unknown currencies, one currency to itself, and non-positive amounts', async () => {
    const bad = await connectRefusal(exchange().createQuote({ fromCurrency: 'USD', toCurrency: 'USD', amount: 0n }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(connectDetails(bad).violations.map((v) => v.field)).toEqual(['to_currency', 'amount']);
    const unknown = await connectRefusal(exchange().getRate({ fromCurrency: 'XYZ', toCurrency: 'EUR' }));
    expect(connectDetails(unknown).violations.map((v) => v.field)).toEqual(['from_currency']);
  });

  it('converts a ledger total into any currency, with the rates used', async () => {
    const ledgerId = (await ledgers().createLedger({ name: 'fx', currencies: ['USD', 'JPY', 'EUR'] })).ledger!.id;
    for (const [currency, amount] of [['USD', 1_050n], ['JPY', 500n]] as const) {
      const { operation } = await ledgers().submitTransaction({ ledgerId, transactionId: `fund-${currency}`, type: TransactionType.CREDIT, amount, currency });
      await settled((r) => t.connectClient(OperationService).getOperation(r), operation!.id);
    }
    const { balances, convertedTotal } = await ledgers().getBalances({ ledgerId, convertTo: 'EUR' });
    expect(balances.map((b) => [b.currency, b.amount])).toEqual([
      ['EUR', 0n],
      ['JPY', 500n],
      ['USD', 1_050n],
    ]);
    const rates = new Map(convertedTotal!.rates.map((r) => [r.fromCurrency, conversion.parseRate(r.rate)!]));
    expect([...rates.keys()].sort()).toEqual(['JPY', 'USD']);
    expect(convertedTotal).toMatchObject({ currency: 'EUR', exponent: 2 });
    expect(convertedTotal!.amount).toBe(
      conversion.sumConverted(
        [
          { amount: 1_050n, fromExponent: 2, rate: rates.get('USD')! },
          { amount: 500n, fromExponent: 0, rate: rates.get('JPY')! },
        ],
        2,
      ),
    );
    expect((await ledgers().getBalances({ ledgerId })).convertedTotal).toBeUndefined();
    expect((await connectRefusal(ledgers().getBalances({ ledgerId, convertTo: 'EURO' }))).code).toBe(Code.InvalidArgument);
  });
});

async function fundedLedger(usd: bigint): Promise<string> {
  const ledgerId = (await ledgers().createLedger({ name: 'exchanger', currencies: ['USD', 'JPY', 'EUR'] })).ledger!.id;
  const { operation } = await ledgers().submitTransaction({ ledgerId, transactionId: 'fund', type: TransactionType.CREDIT, amount: usd, currency: 'USD' });
  await settled((r) => operations().getOperation(r), operation!.id);
  return ledgerId;
}

const operations = () => t.connectClient(OperationService);

async function balancesOf(ledgerId: string): Promise<Record<string, bigint>> {
  return Object.fromEntries((await ledgers().getBalances({ ledgerId })).balances.map((b) => [b.currency, b.amount]));
}

describe('SubmitExchange', () => {
  it('exchanges at the quoted rate, both legs together, with every step recorded', async () => {
    const ledgerId = await fundedLedger(5_000n);
    const { quote } = await exchange().createQuote({ fromCurrency: 'USD', toCurrency: 'JPY', amount: 1_000n });
    const { operation } = await exchange().submitExchange({ ledgerId, transactionId: 'x1', fromCurrency: 'USD', toCurrency: 'JPY', amount: 1_000n, quoteId: quote!.id });
    expect(operation?.kind).toBe(OperationKind.EXCHANGE);
    const seen: string[][] = [];
    for await (const m of operations().watchOperation({ operationId: operation!.id })) seen.push(m.operation!.steps.map((s) => `${s.name}:${StepStatus[s.status]}`));
    expect(seen.at(-1)).toEqual(['RATE_LOCKED:COMPLETED', 'SOURCE_DEBITED:COMPLETED', 'TARGET_CREDITED:COMPLETED', 'COMPLETED:COMPLETED']);
    const done = await settled((r) => operations().getOperation(r), operation!.id);
    expect(done.result?.balanceChanges.map((c) => [c.currency, c.amount])).toEqual([
      ['USD', -1_000n],
      ['JPY', quote!.toAmount],
    ]);
    expect(await balancesOf(ledgerId)).toEqual({ EUR: 0n, JPY: quote!.toAmount, USD: 4_000n });
    const { convertedTotal } = await ledgers().getBalances({ ledgerId, convertTo: 'EUR' });
    expect(convertedTotal?.currency).toBe('EUR');
    expect(convertedTotal!.amount).toBeGreaterThan(0n);
    expect(await audit([ledgerId], isolatedEnv('rates', 8).DATABASE_URL)).toMatchObject({ currenciesNotZero: [], balancesNotEntries: [] });
  });

  it('streams the locked rate as a version of its own, then both legs together in the next', async () => {
    const ledgerId = await fundedLedger(5_000n);
    const versions: string[] = [];
    const abort = new AbortController();
    const watching = (async () => {
      try {
        for await (const m of operations().watchLedger({ ledgerId }, { signal: abort.signal })) {
          if (m.event.case !== 'operation' || m.event.value.kind !== OperationKind.EXCHANGE) continue;
          const op = m.event.value;
          versions.push(`v${op.version} ${OperationStatus[op.status]} ${op.steps.map((s) => `${s.name}:${StepStatus[s.status]}`).join(' ')}`.trim());
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      }
    })();
    await pause(300); // let the watch subscribe
    const { operation } = await exchange().submitExchange({ ledgerId, transactionId: 'streamed', fromCurrency: 'USD', toCurrency: 'EUR', amount: 1_000n });
    await settled((r) => operations().getOperation(r), operation!.id);
    await expect.poll(() => versions.some((v) => v.includes('COMPLETED:COMPLETED')), { timeout: 10_000 }).toBe(true);
    abort.abort();
    await watching;
    expect(versions).toEqual([
      'v1 PENDING',
      'v2 PROCESSING',
      'v3 PROCESSING RATE_LOCKED:COMPLETED',
      'v4 COMPLETED RATE_LOCKED:COMPLETED SOURCE_DEBITED:COMPLETED TARGET_CREDITED:COMPLETED COMPLETED:COMPLETED',
    ]);
  });

  it('lets a quote serve one exchange only: a second use ends FAILED QUOTE_ALREADY_USED with no leg applied', async () => {
    const ledgerId = await fundedLedger(5_000n);
    const { quote } = await exchange().createQuote({ fromCurrency: 'USD', toCurrency: 'EUR', amount: 500n });
    const submit = (transactionId: string) =>
      exchange().submitExchange({ ledgerId, transactionId, fromCurrency: 'USD', toCurrency: 'EUR', amount: 500n, quoteId: quote!.id });
    const [a, b] = await Promise.all([submit('q1'), submit('q2')]);
    const ends = await Promise.all([a, b].map((r) => settled((q) => operations().getOperation(q), r.operation!.id)));
    expect(ends.map((o) => OperationStatus[o.status]).sort()).toEqual(['COMPLETED', 'FAILED']);
    expect(ends.find((o) => o.status === OperationStatus.FAILED)?.error?.code).toBe('QUOTE_ALREADY_USED');
    expect(await balancesOf(ledgerId)).toEqual({ EUR: quote!.toAmount, JPY: 0n, USD: 4_500n });
    const again = await connectRefusal(submit('q3'));
    expect([again.code, connectDetails(again).errorInfo?.reason]).toEqual([Code.FailedPrecondition, 'QUOTE_ALREADY_USED']);
  });

  it('answers a retry of an exchange whose quote it used with that exchange, not QUOTE_ALREADY_USED', async () => {
    const ledgerId = await fundedLedger(5_000n);
    const { quote } = await exchange().createQuote({ fromCurrency: 'USD', toCurrency: 'EUR', amount: 700n });
    const request = { ledgerId, transactionId: 'quoted-retry', fromCurrency: 'USD', toCurrency: 'EUR', amount: 700n, quoteId: quote!.id };
    const { operation } = await exchange().submitExchange(request);
    const done = await settled((r) => operations().getOperation(r), operation!.id);
    expect(OperationStatus[done.status]).toBe('COMPLETED');
    // The client never heard the answer and sends the same request again.
    const retried = await exchange().submitExchange(request);
    expect([retried.operation?.id, OperationStatus[retried.operation!.status]]).toEqual([operation!.id, 'COMPLETED']);
    expect(await balancesOf(ledgerId)).toEqual({ EUR: quote!.toAmount, JPY: 0n, USD: 4_300n });
    // Another request under the same transaction id is still refused, and the quote serves no one else.
    const reused = await connectRefusal(exchange().submitExchange({ ...request, metadata: { changed: 'yes' } }));
    expect(reused.code).toBe(Code.AlreadyExists);
    const other = await connectRefusal(exchange().submitExchange({ ...request, transactionId: 'quoted-other' }));
    expect([other.code, connectDetails(other).errorInfo?.reason]).toEqual([Code.FailedPrecondition, 'QUOTE_ALREADY_USED']);
  });

  it('fails an exchange beyond the balance with INSUFFICIENT_FUNDS: the rate was locked, no leg applied', async () => {
    const ledgerId = await fundedLedger(100n);
    const { operation } = await exchange().submitExchange({ ledgerId, transactionId: 'big', fromCurrency: 'USD', toCurrency: 'JPY', amount: 101n });
    const failed = await settled((r) => operations().getOperation(r), operation!.id);
    expect([OperationStatus[failed.status], failed.error?.code]).toEqual(['FAILED', 'INSUFFICIENT_FUNDS']);
    expect(failed.steps.map((s) => `${s.name}:${StepStatus[s.status]}`)).toEqual(['RATE_LOCKED:COMPLETED', 'SOURCE_DEBITED:FAILED']);
    expect(await balancesOf(ledgerId)).toEqual({ EUR: 0n, JPY: 0n, USD: 100n });
  });

  it('refuses a quote for other currencies or amounts, and currencies the ledger lacks', async () => {
    const ledgerId = await fundedLedger(1_000n);
    const { quote } = await exchange().createQuote({ fromCurrency: 'USD', toCurrency: 'JPY', amount: 100n });
    const mismatch = await connectRefusal(exchange().submitExchange({ ledgerId, transactionId: 'm', fromCurrency: 'USD', toCurrency: 'JPY', amount: 99n, quoteId: quote!.id }));
    expect(connectDetails(mismatch).errorInfo?.reason).toBe('QUOTE_MISMATCH');
    const lacking = await connectRefusal(exchange().submitExchange({ ledgerId, transactionId: 'l', fromCurrency: 'USD', toCurrency: 'GBP', amount: 10n }));
    expect([lacking.code, connectDetails(lacking).errorInfo?.reason]).toEqual([Code.FailedPrecondition, 'CURRENCY_NOT_ENABLED']);
  });
});

describe('the provider going away', () => {
  it('serves the last known rate within the staleness bound, then answers UNAVAILABLE; exchanges follow', async () => {
    const ledgerId = await fundedLedger(10_000n);
    const before = (await exchange().getRate({ fromCurrency: 'USD', toCurrency: 'EUR' })).rate!;
    provider.setFaults({ outage: true });
    try {
      await pause(CACHE_TTL_MS * 2); // the cache has expired: the provider is asked, and fails
      const during = (await exchange().getRate({ fromCurrency: 'USD', toCurrency: 'EUR' })).rate!;
      expect(during.rate).toBe(before.rate);
      const onCached = await exchange().submitExchange({ ledgerId, transactionId: 'cached', fromCurrency: 'USD', toCurrency: 'EUR', amount: 1_000n });
      const completed = await settled((r) => operations().getOperation(r), onCached.operation!.id);
      expect(OperationStatus[completed.status]).toBe('COMPLETED');
      const atCachedRate = conversion.convertMinorUnits(1_000n, 2, 2, conversion.parseRate(before.rate)!);
      expect(completed.result?.balanceChanges[1]?.amount).toBe(atCachedRate);

      await pause(STALENESS_MS);
      const beyond = await connectRefusal(exchange().getRate({ fromCurrency: 'USD', toCurrency: 'EUR' }));
      expect(beyond.code).toBe(Code.Unavailable);
      expect(connectDetails(beyond).errorInfo?.reason).toBe('RATES_UNAVAILABLE');
      const balances = await balancesOf(ledgerId);
      const noRate = await exchange().submitExchange({ ledgerId, transactionId: 'stale', fromCurrency: 'USD', toCurrency: 'EUR', amount: 1_000n });
      const failed = await settled((r) => operations().getOperation(r), noRate.operation!.id);
      expect([OperationStatus[failed.status], failed.error?.code]).toEqual(['FAILED', 'RATES_UNAVAILABLE']);
      expect(await balancesOf(ledgerId)).toEqual(balances);
    } finally {
      provider.resetFaults();
    }
  });
});
