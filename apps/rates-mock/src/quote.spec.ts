import { describe, expect, it } from 'vitest';
import { MAX_SYMBOLS, parseRatesQuery, quoteRates, type RatesQuery } from './quote.js';
import { significantDigits } from './rates.js';
import { SUPPORTED_CODES, UsdValues } from './usd-values.js';

const parse = (query: string) => parseRatesQuery(new URLSearchParams(query));
const query = (base: string, symbols?: readonly string[]): RatesQuery => ({ base, symbols });

describe('parseRatesQuery', () => {
  it('reads a base and an optional list of symbols, without duplicates, ignoring other parameters', () => {
    expect(parse('base=USD')).toEqual({ ok: true, query: query('USD', undefined) });
    expect(parse('base=EUR&symbols=JPY,GBP,JPY&access_key=x')).toEqual({ ok: true, query: query('EUR', ['JPY', 'GBP']) });
  });

  it('refuses a missing or repeated base, repeated or blank symbols, and too many of them', () => {
    for (const text of ['', 'symbols=EUR', 'base=USD&base=EUR', 'base=USD&symbols=EUR&symbols=JPY', 'base=USD&symbols=',
      'base=USD&symbols=EUR,,JPY', 'base=USD&symbols=EUR,', `base=USD&symbols=${Array(MAX_SYMBOLS + 1).fill('EUR').join(',')}`]) {
      const parsed = parse(text);
      expect(parsed.ok, text).toBe(false);
      if (!parsed.ok) expect(parsed.problem.code, text).toBe('INVALID_REQUEST');
    }
  });

  it('names unknown codes, with a hint for lower case', () => {
    expect(parse('base=XXX')).toEqual({ ok: false, problem: { code: 'UNKNOWN_CURRENCY', message: 'unknown currency: "XXX"' } });
    const parsed = parse('base=USD&symbols=EUR,eur,ABC');
    expect(parsed).toEqual({
      ok: false,
      problem: { code: 'UNKNOWN_CURRENCY', message: 'unknown currency: "eur" (codes are upper case: EUR), "ABC"' },
    });
  });
});

describe('quoteRates', () => {
  const values = new UsdValues();

  it('quotes every supported currency but the base, as plain decimal strings of at most 12 significant digits', () => {
    const rates = quoteRates(values, query('USD'));
    expect(Object.keys(rates)).toEqual(SUPPORTED_CODES.filter((c) => c !== 'USD'));
    for (const [code, rate] of Object.entries(rates)) {
      expect(rate, code).toMatch(/^(0|[1-9]\d*)(\.\d*[1-9])?$/);
      expect(rate, code).not.toMatch(/^0(\.0*)?$/);
      expect(significantDigits(rate), code).toBeLessThanOrEqual(12);
    }
    expect(rates).toMatchObject({ EUR: '0.9215', JPY: '151.37', GBP: '0.7862', KWD: '0.3075', BHD: '0.376' });
  });

  it('matches an independent decimal calculation (Python decimal, 12 digits, half-even)', () => {
    expect(quoteRates(values, query('EUR', ['USD', 'JPY']))).toEqual({ USD: '1.08518719479', JPY: '164.264785676' });
    expect(quoteRates(values, query('JPY', ['EUR', 'LBP']))).toEqual({ EUR: '0.0060877320473', LBP: '591.266433243' });
    expect(quoteRates(values, query('GBP', ['KWD']))).toEqual({ KWD: '0.391121851946' });
    expect(quoteRates(values, query('KWD', ['LBP']))).toEqual({ LBP: '291056.910569' });
    expect(quoteRates(values, query('LBP', ['KWD']))).toEqual({ KWD: '0.00000343575418994' });
    expect(quoteRates(values, query('BHD', ['JPY']))).toEqual({ JPY: '402.579787234' });
  });

  it('answers 1 for the base when it is asked for by name, and keeps the order asked', () => {
    expect(Object.entries(quoteRates(values, query('CHF', ['JPY', 'CHF', 'AED'])))).toEqual([
      ['JPY', expect.any(String)],
      ['CHF', '1'],
      ['AED', expect.any(String)],
    ]);
  });

  it('is the same for every base on every call', () => {
    for (const base of SUPPORTED_CODES) expect(quoteRates(values, query(base))).toEqual(quoteRates(new UsdValues(), query(base)));
  });

  it('follows overridden USD values', () => {
    const changed = new UsdValues();
    changed.apply(new Map([['EUR', '0.5']]));
    expect(quoteRates(changed, query('USD', ['EUR']))).toEqual({ EUR: '2' });
    expect(quoteRates(changed, query('EUR', ['USD']))).toEqual({ USD: '0.5' });
  });
});
