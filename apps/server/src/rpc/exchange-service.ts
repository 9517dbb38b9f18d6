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
  SubmitExchangeResponseSchema,
  type ExchangeService,
  type Rate,
} from '@tally/contracts';
import type * as exchange from '@tally/exchange';
import type { Operation } from '@tally/operations';
import { scopeOf } from '../access/caller.js';
import { operationToProto } from './mapping.js';

/** ExchangeService: currencies, rates and quotes (sync); exchanges (async, composite). */
export function exchangeServiceHandlers(
  facade: exchange.ExchangeFacade<Operation>,
): Partial<ServiceImpl<typeof ExchangeService>> {
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

    async submitExchange(req, ctx) {
      const operation = await facade.submitExchange(
        {
          ledgerId: req.ledgerId,
          transactionId: req.transactionId,
          fromCurrency: req.fromCurrency,
          toCurrency: req.toCurrency,
          amount: req.amount,
          quoteId: req.quoteId,
          metadata: req.metadata,
        },
        scopeOf(ctx),
      );
      return create(SubmitExchangeResponseSchema, { operation: operationToProto(operation) });
    },

    async createQuote(req, ctx) {
      const quote = await facade.createQuote({ from: req.fromCurrency, to: req.toCurrency, amount: req.amount }, scopeOf(ctx));
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
