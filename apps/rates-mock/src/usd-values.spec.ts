import { describe, expect, it } from 'vitest';
import { ratio, type Ratio } from './rates.js';
import {
  checkUsdValuesPatch,
  fnv1a32,
  hashedUsdValue,
  isSupported,
  QUOTED_CODES,
  standardUsdValue,
  SUPPORTED_CODES,
  UsdValues,
} from './usd-values.js';

const between = (value: Ratio, low: Ratio, high: Ratio) => value.num * low.den >= low.num * value.den && value.num * high.den < high.num * value.den;

describe('supported currencies', () => {
  it('are ISO 4217 codes, each once, ordered', () => {
    expect(SUPPORTED_CODES.every((code) => /^[A-Z]{3}$/.test(code))).toBe(true);
    expect([...new Set(SUPPORTED_CODES)].sort()).toEqual(SUPPORTED_CODES);
    expect(SUPPORTED_CODES.length).toBeGreaterThan(150);
    expect(isSupported('USD')).toBe(true);
    expect(isSupported('usd')).toBe(false);
    expect(isSupported('XXX')).toBe(false);
  });

  it('include the majors among the hand-written quotes', () => {
    for (const code of ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'CNY', 'INR', 'BHD', 'KWD']) {
      expect(QUOTED_CODES, code).toContain(code);
    }
    for (const code of QUOTED_CODES) expect(isSupported(code), code).toBe(true);
  });
});

describe('standardUsdValue', () => {
  it('is 1 for USD, and the inverse of the quote for the majors', () => {
    expect(standardUsdValue('USD')).toEqual(ratio(1n, 1n));
    expect(standardUsdValue('EUR')).toEqual(ratio(10000n, 9215n)); // 1 USD = 0.9215 EUR
    expect(standardUsdValue('JPY')).toEqual(ratio(100n, 15137n)); // 1 USD = 151.37 JPY
    expect(standardUsdValue('KWD')).toEqual(ratio(10000n, 3075n));
  });

  it('is positive for every supported currency, and refuses the others', () => {
    for (const code of SUPPORTED_CODES) {
      const value = standardUsdValue(code);
      expect(value.num > 0n && value.den > 0n, code).toBe(true);
    }
    expect(() => standardUsdValue('XXX')).toThrow(RangeError);
  });
});

describe('hashed USD values', () => {
  it('use FNV-1a 32 (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('are pinned: these values never change between runs, machines or versions', () => {
    expect(hashedUsdValue('AFN')).toEqual(ratio(19636n, 10n ** 7n));
    expect(hashedUsdValue('IRR')).toEqual(ratio(15076n, 10n ** 7n));
    expect(hashedUsdValue('XPF')).toEqual(ratio(15202n, 10n ** 6n));
    expect(hashedUsdValue('ZMW')).toEqual(ratio(7149n, 10n ** 6n));
  });

  it('lie from 0.0005 up to 5 USD and use all four decades in between', () => {
    const decades = new Set<number>();
    for (const code of SUPPORTED_CODES.filter((c) => !QUOTED_CODES.includes(c))) {
      const value = hashedUsdValue(code);
      expect(between(value, ratio(5n, 10000n), ratio(5n, 1n)), code).toBe(true);
      decades.add(value.den.toString().length);
      expect(standardUsdValue(code)).toEqual(value);
    }
    expect(decades.size).toBe(4);
  });
});

describe('checkUsdValuesPatch', () => {
  it('accepts supported codes with positive decimal strings, or null', () => {
    const checked = checkUsdValuesPatch({ EUR: '0.5', GBP: null, JPY: '0.0066' });
    expect(checked).toEqual({ ok: true, patch: new Map<string, string | null>([['EUR', '0.5'], ['GBP', null], ['JPY', '0.0066']]) });
  });

  it('names every bad entry', () => {
    const checked = checkUsdValuesPatch({ XXX: '1', EUR: 0.5, GBP: '0', JPY: '-1', CHF: '1e3', usd: '1' });
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.problems).toHaveLength(6);
      expect(checked.problems[0]).toMatch(/"XXX" is not a supported currency code/);
      expect(checked.problems[1]).toMatch(/"EUR" must be a positive decimal string/);
    }
  });

  it('wants a JSON object', () => {
    for (const body of [null, [], 'EUR', 1]) expect(checkUsdValuesPatch(body).ok).toBe(false);
  });
});

describe('UsdValues', () => {
  it('overrides values, restores one with null, and all with reset', () => {
    const values = new UsdValues();
    values.apply(new Map([['EUR', '0.5'], ['GBP', '2']]));
    expect(values.valueOf('EUR')).toEqual(ratio(5n, 10n));
    expect(values.overrides()).toEqual({ EUR: '0.5', GBP: '2' });

    values.apply(new Map([['GBP', null]]));
    expect(values.valueOf('GBP')).toEqual(standardUsdValue('GBP'));
    expect(values.overrides()).toEqual({ EUR: '0.5' });

    values.reset();
    expect(values.valueOf('EUR')).toEqual(standardUsdValue('EUR'));
    expect(values.overrides()).toEqual({});
  });

  it('refuses unknown codes and malformed values loudly', () => {
    const values = new UsdValues();
    expect(() => values.valueOf('XXX')).toThrow(RangeError);
    expect(() => values.apply(new Map([['XXX', '1']]))).toThrow(RangeError);
    expect(() => values.apply(new Map([['EUR', '0']]))).toThrow(RangeError);
  });
});
