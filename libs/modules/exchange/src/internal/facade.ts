import { conversion, currencies, type Currency } from '@tally/currencies';
import { TallyError, Violations, type Database, type Logger, type Redis, type SqlTransaction } from '@tally/platform';
import { checkExchange, lockRates, type ExchangeInput, type ExchangeRequest, type ExchangeToLock, type LockedRate } from './exchanges.js';
import { checkPair, createQuote, type Quote } from './quotes.js';
import { rateIn, RateSource, type RatePolicy } from './rate-source.js';

export interface Rate {
  readonly fromCurrency: string;
  readonly toCurrency: string;
  /** Exact decimal string. */
  readonly rate: string;
  readonly asOf: Date;
}

/** Digits after the point in rates shown to clients (the exact fraction is what converts). */
export const RATE_FRACTION_DIGITS = 12;

export interface ConvertedTotal {
  readonly currency: string;
  readonly amount: bigint;
  readonly exponent: number;
  /** The rate used for each balance's currency (none for the target currency itself). */
  readonly rates: readonly Rate[];
}

export interface ExchangeFacade {
  /** Every supported ISO 4217 currency, ordered by code. */
  listCurrencies(): readonly Currency[];
  getRate(from: string, to: string): Promise<Rate>;
  createQuote(input: { from: string; to: string; amount: bigint }): Promise<Quote>;
  /** The sum of `balances` in `currency`, each converted at the current rate, rounded half-even once. */
  convertTotal(balances: ReadonlyArray<{ currency: string; amount: bigint }>, currency: string): Promise<ConvertedTotal>;
  /** Checks an exchange before it is accepted (fields, and its quote); returns the request to record. */
  checkExchange(input: ExchangeInput): Promise<ExchangeRequest>;
  /** In the worker's transaction: the rate each exchange applies at (its quote, now used, or the current rate). */
  lockRates(tx: SqlTransaction, exchanges: readonly ExchangeToLock[]): Promise<LockedRate[]>;
}

export interface ExchangeDeps {
  readonly db: Database;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly rates: RatePolicy;
  readonly quoteTtlMs: number;
}

export function createExchangeFacade(deps: ExchangeDeps): ExchangeFacade {
  const source = new RateSource(deps.redis, deps.rates, deps.logger.child({ component: 'rates' }));
  const shown = async (from: string, to: string): Promise<Rate> => {
    const sourced = await source.rate(from, to);
    return { fromCurrency: from, toCurrency: to, rate: conversion.formatRate(sourced.rate, RATE_FRACTION_DIGITS), asOf: sourced.asOf };
  };
  return {
    listCurrencies: () => currencies.list(),
    async getRate(from, to) {
      const v = new Violations();
      checkPair(v, from, to);
      v.throwIfAny();
      return shown(from, to);
    },
    createQuote: (input) => createQuote(deps.db.em(), source, input, deps.quoteTtlMs),
    checkExchange: (input) => checkExchange(deps.db.em(), input),
    lockRates: (tx, exchanges) => lockRates(tx, source, exchanges),
    async convertTotal(balances, code) {
      const v = new Violations();
      const target = currencies.checkCurrencyCode(v, 'convert_to', code);
      v.throwIfAny();
      const terms = [];
      const rates: Rate[] = [];
      // One table for every balance: one cache read, and every rate of the same moment.
      const table = balances.some((b) => b.currency !== target!.code) ? await source.table() : undefined;
      for (const balance of balances) {
        const from = currencies.find(balance.currency)!;
        if (from.code === target!.code) {
          terms.push({ amount: balance.amount, fromExponent: from.exponent, rate: { numerator: 1n, denominator: 1n } });
          continue;
        }
        const sourced = rateIn(table!, from.code, target!.code);
        rates.push({ fromCurrency: from.code, toCurrency: target!.code, rate: conversion.formatRate(sourced.rate, RATE_FRACTION_DIGITS), asOf: sourced.asOf });
        terms.push({ amount: balance.amount, fromExponent: from.exponent, rate: sourced.rate });
      }
      const amount = conversion.sumConverted(terms, target!.exponent);
      if (amount === undefined) {
        throw new TallyError('FAILED_PRECONDITION', `the total in ${target!.code} does not fit in int64`, { reason: 'TOTAL_OUT_OF_RANGE' });
      }
      return { currency: target!.code, amount, exponent: target!.exponent, rates };
    },
  };
}
