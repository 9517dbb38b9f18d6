/**
 * Exchange: currencies offered for conversion, rates from the external provider (cached, with a
 * circuit breaker and a bounded-staleness fallback), quotes, converted totals, and the async
 * use case that exchanges money between two currencies of a ledger (submit-exchange: its sync
 * half `check.ts`, the worker's `prepare.ts` and `apply.ts`). Owns the PostgreSQL schema
 * `exchange`.
 */
import type { ModuleSchema } from '@tally/platform';
import { exchangeMigrations } from './internal/schema.js';

export { createExchangeFacade, RATE_FRACTION_DIGITS } from './internal/facade.js';
export type { ConvertedTotal, ExchangeDeps, ExchangeFacade, Rate } from './internal/facade.js';
export type { Quote } from './internal/quotes.js';
export type { ExchangeInput, ExchangeIntake } from './submit-exchange/check.js';
export type { RatePolicy } from './internal/rate-source.js';
export type { Currency } from '@tally/currencies';

export const exchangeSchema: ModuleSchema = { name: 'exchange', entities: [], migrations: exchangeMigrations };
