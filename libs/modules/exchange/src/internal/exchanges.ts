import type { EntityManager } from '@mikro-orm/postgresql';
import { conversion, currencies } from '@tally/currencies';
import {
  checkClientKey,
  checkMetadata,
  checkUuid,
  failedPrecondition,
  isTallyError,
  notFound,
  statement,
  Violations,
  type SqlTransaction,
} from '@tally/platform';
import { checkPair, QUOTE_RATE_FRACTION_DIGITS } from './quotes.js';
import { rateIn, type RateSource } from './rate-source.js';

/**
 * Exchanges between two currencies of one ledger. Sync half: check the request (and its quote).
 * Worker half: lock the rate (use the quote, or take the current rate) for each exchange, inside
 * the worker's transaction; the ledgers module then books both legs.
 */

/** The request as accepted (JSON, canonical). */
export interface ExchangeRequest {
  readonly from_currency: string;
  readonly to_currency: string;
  readonly amount: string;
  /** Empty without a quote. */
  readonly quote_id: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ExchangeInput {
  readonly ledgerId: string;
  readonly transactionId: string;
  readonly fromCurrency: string;
  readonly toCurrency: string;
  readonly amount: bigint;
  readonly quoteId: string;
  readonly metadata: Readonly<Record<string, string>>;
}

interface QuoteRow {
  id: string;
  from_currency: string;
  to_currency: string;
  rate: string;
  from_amount: string;
  to_amount: string;
  expire_time: Date;
  used_by_operation_id: string | null;
}

/** Field checks and the quote's; the ledger's currencies are the ledgers module's to check. */
export async function checkExchange(em: EntityManager, input: ExchangeInput): Promise<ExchangeRequest> {
  const v = new Violations();
  checkUuid(v, 'ledger_id', input.ledgerId);
  checkClientKey(v, 'transaction_id', input.transactionId);
  checkPair(v, input.fromCurrency, input.toCurrency);
  currencies.checkPositiveAmount(v, 'amount', input.amount);
  if (input.quoteId !== '') checkUuid(v, 'quote_id', input.quoteId);
  const metadata = checkMetadata(v, 'metadata', input.metadata);
  v.throwIfAny();
  if (input.quoteId !== '') {
    const [quote] = await em.execute<QuoteRow[]>(`select * from exchange.quote where id = ?`, [input.quoteId]);
    if (!quote) throw notFound('quote', input.quoteId);
    const problem = quoteMismatch(quote, input.fromCurrency, input.toCurrency, input.amount.toString());
    if (problem) throw failedPrecondition(problem.code, problem.message, { quote_id: input.quoteId });
    if (quote.used_by_operation_id) {
      throw failedPrecondition('QUOTE_ALREADY_USED', `quote ${input.quoteId} was used by operation ${quote.used_by_operation_id}`, {
        quote_id: input.quoteId,
      });
    }
    if (new Date(quote.expire_time).getTime() <= Date.now()) {
      throw failedPrecondition('QUOTE_EXPIRED', `quote ${input.quoteId} expired at ${new Date(quote.expire_time).toISOString()}`, { quote_id: input.quoteId });
    }
  }
  return { from_currency: input.fromCurrency, to_currency: input.toCurrency, amount: input.amount.toString(), quote_id: input.quoteId, metadata };
}

function quoteMismatch(quote: QuoteRow, from: string, to: string, amount: string): { code: string; message: string } | undefined {
  if (quote.from_currency !== from || quote.to_currency !== to || String(quote.from_amount) !== amount) {
    return { code: 'QUOTE_MISMATCH', message: `quote ${quote.id} is for ${quote.from_amount} ${quote.from_currency} to ${quote.to_currency}` };
  }
  return undefined;
}

export interface ExchangeToLock {
  readonly id: string;
  readonly request: Readonly<Record<string, unknown>>;
}

export type LockedRate =
  | { readonly ok: true; readonly fromCurrency: string; readonly toCurrency: string; readonly fromAmount: bigint; readonly toAmount: bigint; readonly rate: string }
  | { readonly ok: false; readonly error: { code: string; message: string; details: Record<string, string> } };

/**
 * The rate each exchange applies at: its quote's (marked used by it, in the worker's
 * transaction, so a quote serves one exchange), or the current rate. No rate, no exchange:
 * an expired or used quote, or no recent enough rate, fails it with the reason.
 */
const LOCK_QUOTE = statement('exchange_lock_quote', `select * from exchange.quote where id = $1 for update`);
const USE_QUOTE = statement(
  'exchange_use_quote',
  `update exchange.quote set used_by_operation_id = $1, used_time = now() where id = $2 and used_by_operation_id is null`,
);

export async function lockRates(tx: SqlTransaction, rates: RateSource, exchanges: readonly ExchangeToLock[]): Promise<LockedRate[]> {
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
        await tx.query(USE_QUOTE, [exchange.id, quote.id]);
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
