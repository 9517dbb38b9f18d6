import { conversion, currencies, type Currency } from '@tally/currencies';
import type { LedgersFacade } from '@tally/ledgers';
import { TallyError, Violations, type Applier, type Database, type Logger, type Preparer, type Redis, type TenantScope } from '@tally/platform';
import { exchangeApplier } from '../submit-exchange/apply.js';
import { submitExchange, type ExchangeInput, type ExchangeIntake } from '../submit-exchange/check.js';
import { rateLocker } from '../submit-exchange/prepare.js';
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

/** `Operation` is what the intake port answers for an accepted exchange; this module only passes it on. */
export interface ExchangeFacade<Operation = unknown> {
  /** Every supported ISO 4217 currency, ordered by code. */
  listCurrencies(): readonly Currency[];
  getRate(from: string, to: string): Promise<Rate>;
  /** A quote for the caller's tenant: another tenant's exchange cannot use it (NOT_FOUND). */
  createQuote(input: { from: string; to: string; amount: bigint }, scope: TenantScope): Promise<Quote>;
  /** The sum of `balances` in `currency`, each converted at the current rate, rounded half-even once. */
  convertTotal(balances: ReadonlyArray<{ currency: string; amount: bigint }>, currency: string): Promise<ConvertedTotal>;
  /**
   * SubmitExchange: checks the request, its quote and the ledger's currencies, and records it;
   * throws the refusal (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, or the intake's).
   */
  /** The ledger must be one the scope may see (NOT_FOUND otherwise). */
  submitExchange(input: ExchangeInput, scope: TenantScope): Promise<Operation>;
  /** The worker's first commit of an exchange: its rate locked (the quote used, or the current rate). */
  readonly preparer: Preparer;
  /** The worker's second commit: both legs at the locked rate. */
  readonly applier: Applier;
}

export interface ExchangeDeps<Operation> {
  readonly db: Database;
  /** Ledgers check an exchange's currencies and book its legs. */
  readonly ledgers: Pick<LedgersFacade, 'requireCurrencies' | 'book'>;
  /** Where exchanges are recorded (the operations module, plugged in by the wiring). */
  readonly intake: ExchangeIntake<Operation>;
  readonly redis: Redis;
  readonly logger: Logger;
  readonly rates: RatePolicy;
  readonly quoteTtlMs: number;
}

export function createExchangeFacade<Operation>(deps: ExchangeDeps<Operation>): ExchangeFacade<Operation> {
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
    createQuote: (input, scope) => createQuote(deps.db.em(), source, input, deps.quoteTtlMs, scope),
    submitExchange: (input, scope) => submitExchange(deps.db.em(), deps.ledgers, deps.intake, input, scope),
    preparer: rateLocker(source),
    applier: exchangeApplier(deps.ledgers),
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
