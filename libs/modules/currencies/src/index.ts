/**
 * Currencies: the ISO 4217 catalogue and money in minor units. Pure: no tables, no I/O.
 */
import { checkCurrencyCode, checkPositiveAmount } from './internal/checks.js';
import { catalogue, type Currency } from './internal/catalogue.js';
import { addMinorUnits, formatMinorUnits, INT64_MAX, INT64_MIN, isInt64 } from './internal/money.js';
import { chainRates, convertMinorUnits, formatRate, invertRate, parseRate, roundHalfEven, sumConverted } from './internal/conversion.js';

export type { ExactRate } from './internal/conversion.js';
export { MAX_RATE_DIGITS } from './internal/conversion.js';

export type { Currency };

export interface CurrenciesFacade {
  /** The date of the ISO 4217 list the catalogue was generated from. */
  readonly cataloguePublished: string;
  /** Every supported currency, ordered by code. */
  list(): readonly Currency[];
  find(code: string): Currency | undefined;
  checkCurrencyCode: typeof checkCurrencyCode;
  checkPositiveAmount: typeof checkPositiveAmount;
}

export const currencies: CurrenciesFacade = {
  cataloguePublished: catalogue.published,
  list: () => catalogue.all,
  find: catalogue.find,
  checkCurrencyCode,
  checkPositiveAmount,
};

/** Money arithmetic on minor units (bigint, int64 range). */
export const money = { INT64_MAX, INT64_MIN, isInt64, addMinorUnits, formatMinorUnits } as const;

/** Exact rates and conversion, rounded half-even; the one place money changes currency. */
export const conversion = { parseRate, formatRate, invertRate, chainRates, convertMinorUnits, sumConverted, roundHalfEven } as const;
