/** GET /v1/rates: what a request may ask, and the rates it gets. Pure: no I/O. */
import { rateBetween } from './rates.js';
import { isSupported, SUPPORTED_CODES, type UsdValues } from './usd-values.js';

/** More than the catalogue holds (166 codes), so any real list fits, and no more. */
export const MAX_SYMBOLS = 200;
/** Unknown codes named in one error message; the rest are counted. */
const MAX_CODES_NAMED = 10;

export interface RatesQuery {
  readonly base: string;
  /** The currencies to quote, without duplicates, in the order asked; undefined: all but the base. */
  readonly symbols: readonly string[] | undefined;
}

export interface QueryProblem {
  readonly code: 'INVALID_REQUEST' | 'UNKNOWN_CURRENCY';
  readonly message: string;
}

/** Reads `base=USD&symbols=EUR,JPY`. Other parameters are ignored, as real providers do. */
export function parseRatesQuery(search: URLSearchParams): { ok: true; query: RatesQuery } | { ok: false; problem: QueryProblem } {
  const invalid = (message: string) => ({ ok: false as const, problem: { code: 'INVALID_REQUEST' as const, message } });
  const bases = search.getAll('base');
  if (bases.length !== 1) return invalid(`give base exactly once, for example base=USD (got it ${bases.length} times)`);
  const base = bases[0] ?? '';

  const symbolLists = search.getAll('symbols');
  if (symbolLists.length > 1) return invalid('give symbols at most once, as one comma-separated list such as symbols=EUR,JPY');
  let symbols: string[] | undefined;
  const list = symbolLists[0];
  if (list !== undefined) {
    const codes = list.split(',');
    if (codes.length > MAX_SYMBOLS) return invalid(`symbols lists ${codes.length} codes; at most ${MAX_SYMBOLS} are allowed`);
    if (codes.some((c) => c === '')) return invalid('symbols must be comma-separated codes without blanks, such as symbols=EUR,JPY');
    symbols = [...new Set(codes)];
  }

  const unknown = [base, ...(symbols ?? [])].filter((code) => !isSupported(code));
  if (unknown.length > 0) {
    const named = [...new Set(unknown)].slice(0, MAX_CODES_NAMED).map(describeUnknown);
    const more = unknown.length > MAX_CODES_NAMED ? ` and ${unknown.length - MAX_CODES_NAMED} more` : '';
    return { ok: false, problem: { code: 'UNKNOWN_CURRENCY', message: `unknown currency: ${named.join(', ')}${more}` } };
  }
  return { ok: true, query: { base, symbols } };
}

function describeUnknown(code: string): string {
  const hint = /^[a-z]{3}$/.test(code) && isSupported(code.toUpperCase()) ? ` (codes are upper case: ${code.toUpperCase()})` : '';
  return `${JSON.stringify(code.slice(0, 16))}${hint}`;
}

/** How many units of each currency one unit of the base buys, as exact decimal strings. */
export function quoteRates(values: UsdValues, query: RatesQuery): Record<string, string> {
  const baseValue = values.valueOf(query.base);
  const codes = query.symbols ?? SUPPORTED_CODES.filter((code) => code !== query.base);
  const rates: Record<string, string> = {};
  for (const code of codes) rates[code] = code === query.base ? '1' : rateBetween(baseValue, values.valueOf(code));
  return rates;
}
