import type { EntityManager } from '@mikro-orm/postgresql';
import { conversion, currencies } from '@tally/currencies';
import { ownerFor, TallyError, Violations, type TenantScope } from '@tally/platform';
import { v7 as uuidv7 } from 'uuid';
import type { RateSource } from './rate-source.js';

/** A rate locked for an amount until `expireTime`. */
export interface Quote {
  readonly id: string;
  readonly fromCurrency: string;
  readonly toCurrency: string;
  /** Exact decimal string. */
  readonly rate: string;
  readonly fromAmount: bigint;
  readonly toAmount: bigint;
  readonly expireTime: Date;
}

/** Digits kept after the point when a cross rate is locked into a quote (exactly what is shown is what applies). */
export const QUOTE_RATE_FRACTION_DIGITS = 12;

export function checkPair(v: Violations, from: string, to: string): void {
  const a = currencies.checkCurrencyCode(v, 'from_currency', from);
  const b = currencies.checkCurrencyCode(v, 'to_currency', to);
  if (a && b && a.code === b.code) v.add('to_currency', 'must differ from from_currency');
}

export async function createQuote(
  em: EntityManager,
  rates: RateSource,
  input: { from: string; to: string; amount: bigint },
  quoteTtlMs: number,
  scope: TenantScope,
): Promise<Quote> {
  const v = new Violations();
  checkPair(v, input.from, input.to);
  currencies.checkPositiveAmount(v, 'amount', input.amount);
  v.throwIfAny();
  const sourced = await rates.rate(input.from, input.to);
  // The quote locks the rate as it is shown, so the amounts can be checked by anyone.
  const rate = conversion.formatRate(sourced.rate, QUOTE_RATE_FRACTION_DIGITS);
  const toAmount = conversion.convertMinorUnits(
    input.amount,
    currencies.find(input.from)!.exponent,
    currencies.find(input.to)!.exponent,
    conversion.parseRate(rate)!,
  );
  if (toAmount === undefined) {
    throw new TallyError('INVALID_ARGUMENT', 'the converted amount does not fit in int64', {
      violations: [{ field: 'amount', description: 'is too large to convert at this rate' }],
    });
  }
  const quote: Quote = {
    id: uuidv7(),
    fromCurrency: input.from,
    toCurrency: input.to,
    rate,
    fromAmount: input.amount,
    toAmount,
    expireTime: new Date(Date.now() + quoteTtlMs),
  };
  await em.execute(
    `insert into exchange.quote (id, from_currency, to_currency, rate, from_amount, to_amount, rate_as_of_time, expire_time, tenant)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      quote.id,
      quote.fromCurrency,
      quote.toCurrency,
      quote.rate,
      quote.fromAmount.toString(),
      quote.toAmount.toString(),
      sourced.asOf,
      quote.expireTime,
      ownerFor(scope),
    ],
  );
  return quote;
}

/** A quote as stored. */
export interface QuoteRow {
  id: string;
  from_currency: string;
  to_currency: string;
  rate: string;
  from_amount: string;
  to_amount: string;
  expire_time: Date;
  used_by_operation_id: string | null;
  /** The request that used it (null for quotes used before exchange-0002). */
  used_by_ledger_id: string | null;
  used_by_transaction_id: string | null;
  /** Who the quote was made for (null: no tenant, auth off). */
  tenant: string | null;
}

/** Why a quote does not fit an exchange, or undefined when it does. */
export function quoteMismatch(quote: QuoteRow, from: string, to: string, amount: string): { code: string; message: string } | undefined {
  if (quote.from_currency !== from || quote.to_currency !== to || String(quote.from_amount) !== amount) {
    return { code: 'QUOTE_MISMATCH', message: `quote ${quote.id} is for ${quote.from_amount} ${quote.from_currency} to ${quote.to_currency}` };
  }
  return undefined;
}
