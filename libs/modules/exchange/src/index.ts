/**
 * Exchange: currencies offered for conversion, rates from the external provider (cached, with a
 * circuit breaker and a bounded-staleness fallback), quotes, and converted totals. Owns the
 * PostgreSQL schema `exchange`. Exchanges between currencies of a ledger arrive with #4's
 * composite operations.
 */
import type { ModuleSchema } from '@tally/platform';
import { exchangeMigrations } from './internal/schema.js';

export { createExchangeFacade, RATE_FRACTION_DIGITS } from './internal/facade.js';
export type { ConvertedTotal, ExchangeDeps, ExchangeFacade, Rate } from './internal/facade.js';
export type { Quote } from './internal/quotes.js';
export type { ExchangeInput, ExchangeRequest, ExchangeToLock, LockedRate } from './internal/exchanges.js';
export type { RatePolicy } from './internal/rate-source.js';
export type { Currency } from '@tally/currencies';

export const exchangeSchema: ModuleSchema = { name: 'exchange', entities: [], migrations: exchangeMigrations };
