/**
 * Exchange: currencies offered for conversion, rates, quotes and exchanges between two
 * currencies of a ledger. Rates and quotes arrive with the rate provider (issue #4); today
 * the module answers which currencies exist.
 */
import { currencies, type Currency } from '@tally/currencies';

export type { Currency };

export interface ExchangeFacade {
  /** Every supported ISO 4217 currency, ordered by code. */
  listCurrencies(): readonly Currency[];
}

export function createExchangeFacade(): ExchangeFacade {
  return { listCurrencies: () => currencies.list() };
}
