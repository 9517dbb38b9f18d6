import { describe, expect, it } from 'vitest';
import { divide, invert, parseDecimal, rateBetween, ratio, significantDigits, toSignificant, type Ratio } from './rates.js';

/** A plain decimal with any number of digits, as an exact ratio (the test's own reader). */
function exact(text: string): Ratio {
  const [whole = '', fraction = ''] = text.split('.');
  return { num: BigInt(whole + fraction), den: 10n ** BigInt(fraction.length) };
}

const PLAIN_DECIMAL = /^(0|[1-9]\d*)(\.\d*[1-9])?$/;

/** A small deterministic generator (LCG), so the property cases are the same on every run. */
function* pseudoRandom(seed: bigint): Generator<bigint> {
  let state = seed;
  for (;;) {
    state = (state * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
    yield state >> 11n;
  }
}

/** floor(log10(value)), exactly. */
function decimalExponent(value: Ratio): number {
  let exponent = value.num.toString().length - value.den.toString().length;
  const atLeast = (e: number) => (e >= 0 ? value.num >= value.den * 10n ** BigInt(e) : value.num * 10n ** BigInt(-e) >= value.den);
  while (!atLeast(exponent)) exponent -= 1;
  while (atLeast(exponent + 1)) exponent += 1;
  return exponent;
}

describe('parseDecimal', () => {
  it('reads positive plain decimals exactly', () => {
    expect(parseDecimal('151.37')).toEqual({ num: 15137n, den: 100n });
    expect(parseDecimal('0.9215')).toEqual({ num: 9215n, den: 10000n });
    expect(parseDecimal('1')).toEqual({ num: 1n, den: 1n });
    expect(parseDecimal('0.000000000001')).toEqual({ num: 1n, den: 10n ** 12n });
    expect(parseDecimal('999999999999.999999999999')).toEqual({ num: 10n ** 24n - 1n, den: 10n ** 12n });
  });

  it('refuses zero, signs, exponents, blanks, leading zeros and too many digits', () => {
    for (const text of ['0', '0.0', '-1', '+1', '1e3', '1E-3', ' 1', '1 ', '01', '.5', '5.', '1,5', 'NaN', 'Infinity', '',
      '1000000000000', '0.0000000000001', '0x10', '１']) {
      expect(parseDecimal(text), text).toBeUndefined();
    }
  });
});

describe('toSignificant', () => {
  it('keeps exact values that fit, without trailing zeros', () => {
    expect(toSignificant(exact('151.37'))).toBe('151.37');
    expect(toSignificant(exact('1'))).toBe('1');
    expect(toSignificant(exact('2.50'))).toBe('2.5');
    expect(toSignificant(exact('123456789012'))).toBe('123456789012');
    expect(toSignificant(exact('0.000123456789012'))).toBe('0.000123456789012');
  });

  it('rounds half-even on ties, and to the nearest otherwise', () => {
    expect(toSignificant(exact('0.1234567890125'))).toBe('0.123456789012'); // tie, 2 is even: down
    expect(toSignificant(exact('0.1234567890135'))).toBe('0.123456789014'); // tie, 3 is odd: up
    expect(toSignificant(exact('0.12345678901250000001'))).toBe('0.123456789013'); // above the tie: up
    expect(toSignificant(exact('0.12345678901349999999'))).toBe('0.123456789013'); // below the tie: down
    expect(toSignificant(exact('1234567890125'))).toBe('1234567890120');
    expect(toSignificant(exact('1234567890135'))).toBe('1234567890140');
    expect(toSignificant(ratio(1n, 3n))).toBe('0.333333333333');
    expect(toSignificant(ratio(2n, 3n))).toBe('0.666666666667');
    // One significant digit: the textbook half-even table.
    const oneDigit = (text: string) => toSignificant(exact(text), 1);
    expect(['0.5', '1.5', '2.5', '3.5', '4.5', '5.5', '9.5', '0.25', '0.35', '0.051'].map(oneDigit)).toEqual([
      '0.5', '2', '2', '4', '4', '6', '10', '0.2', '0.4', '0.05',
    ]);
  });

  it('carries into a new digit without gaining a significant one', () => {
    expect(toSignificant(exact('0.9999999999995'))).toBe('1'); // tie, 9 is odd: up
    expect(toSignificant(exact('0.9999999999985'))).toBe('0.999999999998'); // tie, 8 is even: down
    expect(toSignificant(exact('999999999999.6'))).toBe('1000000000000');
    expect(toSignificant(exact('0.00009999999999996'))).toBe('0.0001');
  });

  it('writes very large and very small values in plain notation', () => {
    expect(toSignificant(ratio(10n ** 30n, 7n))).toBe('142857142857000000000000000000');
    expect(toSignificant(ratio(1n, 7n * 10n ** 20n))).toBe('0.00000000000000000000142857142857');
    expect(toSignificant(ratio(10n ** 40n, 1n))).toBe(`1${'0'.repeat(40)}`);
  });

  it('refuses what is not a positive ratio or a sensible digit count', () => {
    expect(() => toSignificant({ num: 0n, den: 1n })).toThrow(RangeError);
    expect(() => toSignificant({ num: 1n, den: -1n })).toThrow(RangeError);
    expect(() => toSignificant(ratio(1n, 3n), 0)).toThrow(RangeError);
    expect(() => toSignificant(ratio(1n, 3n), 1.5)).toThrow(RangeError);
  });

  it('is the nearest 12-digit decimal, positive and plain, for 2,000 pseudo-random ratios', () => {
    const random = pseudoRandom(20240625n);
    for (let i = 0; i < 2000; i += 1) {
      // Numerators and denominators of 1 to 30 digits: values from about 1e-30 to 1e30.
      const draw = (digits: number) => ((random.next().value as bigint) << 53n | (random.next().value as bigint)) % 10n ** BigInt(digits) + 1n;
      const num = draw(1 + (i % 30));
      const den = draw(1 + ((i * 7) % 30));
      const value = ratio(num, den);
      const text = toSignificant(value);
      expect(text).toMatch(PLAIN_DECIMAL);
      expect(significantDigits(text)).toBeLessThanOrEqual(12);

      // |rounded - value| <= half a unit in the 12th significant digit of value.
      const rounded = exact(text);
      const errorNum = rounded.num * den - num * rounded.den; // over rounded.den * den
      const absErrorNum = errorNum < 0n ? -errorNum : errorNum;
      const ulpExponent = decimalExponent(value) - 11;
      const ulpNum = ulpExponent >= 0 ? 10n ** BigInt(ulpExponent) : 1n;
      const ulpDen = ulpExponent >= 0 ? 1n : 10n ** BigInt(-ulpExponent);
      expect(2n * absErrorNum * ulpDen <= ulpNum * rounded.den * den, `${num}/${den} -> ${text}`).toBe(true);
    }
  });
});

describe('rateBetween', () => {
  const usd = ratio(1n, 1n);
  const eur = invert(exact('0.9215'));
  const jpy = invert(exact('151.37'));

  it('is value(A) / value(B): what one unit of A buys of B', () => {
    expect(rateBetween(usd, eur)).toBe('0.9215');
    expect(rateBetween(usd, jpy)).toBe('151.37');
    expect(rateBetween(eur, usd)).toBe('1.08518719479');
    expect(rateBetween(eur, jpy)).toBe('164.264785676');
    expect(rateBetween(jpy, eur)).toBe('0.0060877320473');
    expect(rateBetween(eur, eur)).toBe('1');
  });

  it('gives A->B and B->A whose product is 1 within rounding, for 500 pseudo-random pairs', () => {
    const random = pseudoRandom(42n);
    for (let i = 0; i < 500; i += 1) {
      const a = ratio((random.next().value as bigint) % 10n ** 9n + 1n, 10n ** BigInt(i % 9));
      const b = ratio((random.next().value as bigint) % 10n ** 9n + 1n, 10n ** BigInt((i * 5) % 9));
      const product = divide(exact(rateBetween(a, b)), invert(exact(rateBetween(b, a))));
      // Each rate is within 5e-12 of its value, relatively: the product within about 1e-11 of 1.
      const distance = product.num > product.den ? product.num - product.den : product.den - product.num;
      expect(distance * 10n ** 11n <= product.den, `${a.num}/${a.den} and ${b.num}/${b.den}`).toBe(true);
    }
  });

  it('is the same string however often it is asked', () => {
    expect(new Set(Array.from({ length: 5 }, () => rateBetween(eur, jpy)))).toEqual(new Set(['164.264785676']));
  });
});

describe('significantDigits', () => {
  it('counts digits without leading zeros, and without trailing zeros of a whole number', () => {
    expect(significantDigits('0.000123')).toBe(3);
    expect(significantDigits('151.37')).toBe(5);
    expect(significantDigits('1000000000000')).toBe(1);
    expect(significantDigits('102.5')).toBe(4);
  });
});
