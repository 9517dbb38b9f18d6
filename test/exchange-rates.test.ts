import { Code } from '@connectrpc/connect';
import { ExchangeService, LedgerService, OperationService, TransactionType } from '@tally/contracts';
import { conversion } from '@tally/currencies';
import { startRatesMock, type RatesMock } from '@tally/rates-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('the provider going away', () => {
  it('serves the last known rate within the staleness bound, then answers UNAVAILABLE', async () => {
    const before = (await exchange().getRate({ fromCurrency: 'USD', toCurrency: 'GBP' })).rate!;
    provider.setFaults({ outage: true });
    try {
      await pause(CACHE_TTL_MS * 2); // the cache has expired: the provider is asked, and fails
      const during = (await exchange().getRate({ fromCurrency: 'USD', toCurrency: 'GBP' })).rate!;
      expect(during.rate).toBe(before.rate);
      await pause(STALENESS_MS);
      const beyond = await connectRefusal(exchange().getRate({ fromCurrency: 'USD', toCurrency: 'GBP' }));
      expect(beyond.code).toBe(Code.Unavailable);
      expect(connectDetails(beyond).errorInfo?.reason).toBe('RATES_UNAVAILABLE');
    } finally {
      provider.resetFaults();
    }
  });
});
