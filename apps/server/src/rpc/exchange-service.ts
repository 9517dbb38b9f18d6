import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CreateQuoteResponseSchema,
  CurrencySchema,
  GetRateResponseSchema,
  ListCurrenciesResponseSchema,
  QuoteSchema,
  RateSchema,
  type ExchangeService,
  type Rate,
} from '@tally/contracts';
import type * as exchange from '@tally/exchange';

/** ExchangeService's sync RPCs. Exchanges themselves (SubmitExchange) arrive with #4. */
export function exchangeServiceHandlers(facade: exchange.ExchangeFacade): Partial<ServiceImpl<typeof ExchangeService>> {
  const currencies = create(ListCurrenciesResponseSchema, {
    currencies: facade.listCurrencies().map((c) => create(CurrencySchema, c)),
  });
  return {
    listCurrencies() {
      return currencies;
    },

    async getRate(req) {
      return create(GetRateResponseSchema, { rate: rateToProto(await facade.getRate(req.fromCurrency, req.toCurrency)) });
    },

    async createQuote(req) {
      const quote = await facade.createQuote({ from: req.fromCurrency, to: req.toCurrency, amount: req.amount });
      return create(CreateQuoteResponseSchema, {
        quote: create(QuoteSchema, { ...quote, expireTime: timestampFromDate(quote.expireTime) }),
      });
    },
  };
}

export function rateToProto(rate: exchange.Rate, now = Date.now()): Rate {
  return create(RateSchema, {
    fromCurrency: rate.fromCurrency,
    toCurrency: rate.toCurrency,
    rate: rate.rate,
    asOfTime: timestampFromDate(rate.asOf),
    age: durationFromMs(Math.max(0, now - rate.asOf.getTime())),
  });
}
