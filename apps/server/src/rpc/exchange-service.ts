import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { CurrencySchema, ListCurrenciesResponseSchema, type ExchangeService } from '@tally/contracts';
import type { ExchangeFacade } from '@tally/exchange';

/** ExchangeService's sync RPCs. Rates, quotes and exchanges arrive with issue #4. */
export function exchangeServiceHandlers(exchange: ExchangeFacade): Partial<ServiceImpl<typeof ExchangeService>> {
  const currencies = create(ListCurrenciesResponseSchema, {
    currencies: exchange.listCurrencies().map((c) => create(CurrencySchema, c)),
  });
  return {
    listCurrencies() {
      return currencies;
    },
  };
}
