import { conversion, currencies } from '@tally/currencies';
import { isTallyError, statement, type OperationError, type OperationToApply, type Preparation, type Preparer, type SqlTransaction } from '@tally/platform';
import { QUOTE_RATE_FRACTION_DIGITS, quoteMismatch, type QuoteRow } from '../internal/quotes.js';
import { rateIn, type RateSource } from '../internal/rate-source.js';
import type { ExchangeRequest } from './check.js';

/**
 * SubmitExchange, the worker's first commit (RATE_LOCKED): the rate each exchange applies at,
 * in a transaction holding no balance: its quote's (the quote is used up) or the current one
 * (the rate provider may be asked); or RATE_LOCKED FAILED with the reason (no recent enough
 * rate, quote expired or used). Recorded in the operation's progress for `apply.ts`.
 */

/** What the preparation leaves in the operation's progress (amounts as decimal strings). */
export type LockProgress =
  | { readonly rate: { fromCurrency: string; toCurrency: string; fromAmount: string; toAmount: string; rate: string } }
  | { readonly rateRefused: OperationError };

export const isRateLocked = (op: OperationToApply): boolean => 'rate' in op.progress || 'rateRefused' in op.progress;

export function rateLocker(rates: RateSource): Preparer {
  return async (tx, operations) => {
    const toLock = operations.filter((op) => !isRateLocked(op));
    const locked = await lockRates(tx, rates, toLock);
    const at = new Date();
    return operations.map((op): Preparation | null => {
      const i = toLock.indexOf(op);
      if (i < 0) return null;
      const result = locked[i]!;
      const progress: LockProgress = result.ok
        ? {
            rate: {
              fromCurrency: result.fromCurrency,
              toCurrency: result.toCurrency,
              fromAmount: result.fromAmount.toString(),
              toAmount: result.toAmount.toString(),
              rate: result.rate,
            },
          }
        : { rateRefused: result.error };
      return { steps: [{ name: 'RATE_LOCKED', status: result.ok ? 'COMPLETED' : 'FAILED', time: at }], progress };
    });
  };
}

type LockedRate =
  | { readonly ok: true; readonly fromCurrency: string; readonly toCurrency: string; readonly fromAmount: bigint; readonly toAmount: bigint; readonly rate: string }
  | { readonly ok: false; readonly error: OperationError };

/**
 * The rate each exchange applies at: its quote's (marked used by it, in the worker's
 * transaction, so a quote serves one exchange), or the current rate. No rate, no exchange:
 * an expired or used quote, or no recent enough rate, fails it with the reason.
 */
const LOCK_QUOTE = statement('exchange_lock_quote', `select * from exchange.quote where id = $1 for update`);
const USE_QUOTE = statement(
  'exchange_use_quote',
  `update exchange.quote set used_by_operation_id = $1, used_by_ledger_id = $3, used_by_transaction_id = $4, used_time = now()
    where id = $2 and used_by_operation_id is null`,
);

async function lockRates(tx: SqlTransaction, rates: RateSource, exchanges: readonly OperationToApply[]): Promise<LockedRate[]> {
  const locked: LockedRate[] = [];
  // One rate table for the whole run, asked for before any quote is locked: a slow provider
  // then holds no quote row, and each exchange costs no cache round trip of its own.
  const table = exchanges.some((e) => !(e.request as Partial<ExchangeRequest>).quote_id) ? rates.table() : undefined;
  table?.catch(() => undefined); // awaited below, by the exchanges that need it
  for (const exchange of exchanges) {
    const r = exchange.request as Partial<ExchangeRequest>;
    const from = currencies.find(String(r.from_currency));
    const to = currencies.find(String(r.to_currency));
    if (!from || !to || typeof r.amount !== 'string' || !/^[1-9]\d{0,18}$/.test(r.amount)) {
      locked.push(fail('MALFORMED_REQUEST', `operation ${exchange.id} holds a request this version cannot apply`, {}));
      continue;
    }
    const fromAmount = BigInt(r.amount);
    if (r.quote_id) {
      const [quote] = await tx.query<QuoteRow>(LOCK_QUOTE, [r.quote_id]);
      const mismatch = quote && quoteMismatch(quote, from.code, to.code, r.amount);
      if (!quote || mismatch) {
        locked.push(fail('QUOTE_MISMATCH', mismatch?.message ?? `quote ${r.quote_id} does not exist`, { quote_id: r.quote_id }));
      } else if (quote.used_by_operation_id && quote.used_by_operation_id !== exchange.id) {
        locked.push(fail('QUOTE_ALREADY_USED', `quote ${quote.id} was used by operation ${quote.used_by_operation_id}`, { quote_id: quote.id }));
      } else if (new Date(quote.expire_time).getTime() <= Date.now()) {
        locked.push(fail('QUOTE_EXPIRED', `quote ${quote.id} expired at ${new Date(quote.expire_time).toISOString()}`, { quote_id: quote.id }));
      } else {
        await tx.query(USE_QUOTE, [exchange.id, quote.id, exchange.ledgerId, exchange.transactionId]);
        locked.push({ ok: true, fromCurrency: from.code, toCurrency: to.code, fromAmount, toAmount: BigInt(quote.to_amount), rate: quote.rate });
      }
      continue;
    }
    try {
      const sourced = rateIn(await table!, from.code, to.code);
      const rate = conversion.formatRate(sourced.rate, QUOTE_RATE_FRACTION_DIGITS);
      const toAmount = conversion.convertMinorUnits(fromAmount, from.exponent, to.exponent, conversion.parseRate(rate)!);
      locked.push(
        toAmount === undefined
          ? fail('AMOUNT_OUT_OF_RANGE', 'the converted amount does not fit in int64', {})
          : { ok: true, fromCurrency: from.code, toCurrency: to.code, fromAmount, toAmount, rate },
      );
    } catch (error) {
      if (!isTallyError(error) || error.code !== 'UNAVAILABLE') throw error;
      locked.push(fail(error.details.reason ?? 'RATES_UNAVAILABLE', error.message, { ...error.details.metadata }));
    }
  }
  return locked;
}

function fail(code: string, message: string, details: Record<string, string>): LockedRate {
  return { ok: false, error: { code, message, details } };
}
