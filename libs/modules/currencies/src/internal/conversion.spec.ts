import { describe, expect, it } from 'vitest';
import { INT64_MAX, INT64_MIN } from './money.js';
import { chainRates, convertMinorUnits, formatRate, invertRate, parseRate, roundHalfEven, sumConverted } from './conversion.js';

const rate = (text: string) => {
  const parsed = parseRate(text);
  if (!parsed) throw new Error(`bad rate ${text}`);
  return parsed;
};

describe('roundHalfEven', () => {
  it('rounds to the nearest integer, ties to even, symmetric around zero', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [5n, 2n, 2n], // 2.5 -> 2
      [7n, 2n, 4n], // 3.5 -> 4
      [-5n, 2n, -2n],
      [-7n, 2n, -4n],
      [11n, 4n, 3n], // 2.75 -> 3
      [9n, 4n, 2n], // 2.25 -> 2
      [-11n, 4n, -3n],
      [10n, 5n, 2n], // exact
      [0n, 7n, 0n],
      [1n, 3n, 0n],
      [2n, 3n, 1n],
      [5n, -2n, -2n],
    ];
    for (const [n, d, want] of cases) expect([n, d, roundHalfEven(n, d)]).toEqual([n, d, want]);
  });

  it('refuses a zero denominator', () => {
    expect(() => roundHalfEven(1n, 0n)).toThrow(RangeError);
  });
});

describe('parseRate and formatRate', () => {
  it('reads plain positive decimals exactly', () => {
    expect(rate('1.0842')).toEqual({ numerator: 5421n, denominator: 5000n });
    expect(rate('151.37')).toEqual({ numerator: 15137n, denominator: 100n });
    expect(rate('2')).toEqual({ numerator: 2n, denominator: 1n });
    expect(formatRate(rate('0.000123'))).toBe('0.000123');
    expect(formatRate(rate('151.370'))).toBe('151.37');
  });

  it('refuses anything that is not a positive plain decimal', () => {
    for (const bad of ['', '0', '0.000', '-1.5', '1e3', '1.', '.5', '1,5', ' 1', 'NaN', '1'.repeat(31)]) {
      expect([bad, parseRate(bad)]).toEqual([bad, undefined]);
    }
  });

  it('inverts and chains exactly', () => {
    expect(chainRates(rate('1.25'), invertRate(rate('1.25')))).toEqual({ numerator: 1n, denominator: 1n });
    expect(formatRate(invertRate(rate('3')), 6)).toBe('0.333333');
    expect(formatRate(invertRate(rate('1.5')), 6)).toBe('0.666667');
  });
});

describe('convertMinorUnits', () => {
  it('converts between exponents 2, 0 and 3, half-even', () => {
    // USD 10.00 at 151.37 JPY/USD = 1513.7 yen -> 1514
    expect(convertMinorUnits(1_000n, 2, 0, rate('151.37'))).toBe(1_514n);
    // JPY 1000 at 0.0066 USD/JPY = USD 6.60
    expect(convertMinorUnits(1_000n, 0, 2, rate('0.0066'))).toBe(660n);
    // USD 1.00 at 0.376 BHD/USD = BHD 0.376
    expect(convertMinorUnits(100n, 2, 3, rate('0.376'))).toBe(376n);
    // BHD 1.000 at 2.6596 USD/BHD = USD 2.6596 -> 2.66
    expect(convertMinorUnits(1_000n, 3, 2, rate('2.6596'))).toBe(266n);
    // JPY 1 at 1 = BHD 1.000: exponent difference alone
    expect(convertMinorUnits(1n, 0, 3, rate('1'))).toBe(1_000n);
  });

  it('breaks exact ties toward the even minor unit', () => {
    // USD 0.01 at 0.5 = 0.005 USD -> 0.00 (0 is even); 0.03 at 0.5 = 0.015 -> 0.02
    expect(convertMinorUnits(1n, 2, 2, rate('0.5'))).toBe(0n);
    expect(convertMinorUnits(3n, 2, 2, rate('0.5'))).toBe(2n);
    expect(convertMinorUnits(5n, 2, 2, rate('0.5'))).toBe(2n);
    expect(convertMinorUnits(7n, 2, 2, rate('0.5'))).toBe(4n);
    // JPY 1 at 2.5 = 2.5 yen -> 2; JPY 3 at 2.5 = 7.5 -> 8
    expect(convertMinorUnits(1n, 0, 0, rate('2.5'))).toBe(2n);
    expect(convertMinorUnits(3n, 0, 0, rate('2.5'))).toBe(8n);
  });

  it('converts negative balances symmetrically', () => {
    expect(convertMinorUnits(-1_000n, 2, 0, rate('151.37'))).toBe(-1_514n);
    expect(convertMinorUnits(-3n, 2, 2, rate('0.5'))).toBe(-2n);
  });

  it('converts amounts near the int64 limit exactly and refuses to overflow', () => {
    expect(convertMinorUnits(INT64_MAX, 2, 2, rate('1'))).toBe(INT64_MAX);
    expect(convertMinorUnits(INT64_MIN, 2, 2, rate('1'))).toBe(INT64_MIN);
    expect(convertMinorUnits(INT64_MAX, 2, 2, rate('0.5'))).toBe(4_611_686_018_427_387_904n); // ...903.5 -> even
    expect(convertMinorUnits(INT64_MAX, 0, 2, rate('1'))).toBeUndefined();
    expect(convertMinorUnits(INT64_MAX, 2, 2, rate('1.0000001'))).toBeUndefined();
    expect(convertMinorUnits(INT64_MIN, 2, 3, rate('1'))).toBeUndefined();
  });

  it('refuses exponents outside ISO 4217 and non-positive rates', () => {
    expect(() => convertMinorUnits(1n, 5, 2, rate('1'))).toThrow(RangeError);
    expect(() => convertMinorUnits(1n, 2, 2, { numerator: 0n, denominator: 1n })).toThrow(RangeError);
  });
});

describe('sumConverted', () => {
  it('rounds the total once, not each term', () => {
    // Three times USD 0.01 at 0.5: each alone rounds to 0.00 (half-even), together 0.015 -> 0.02.
    const third = { amount: 1n, fromExponent: 2, rate: rate('0.5') };
    expect(convertMinorUnits(1n, 2, 2, rate('0.5'))).toBe(0n);
    expect(sumConverted([third, third, third], 2)).toBe(2n);
  });

  it('adds balances of different exponents into one currency', () => {
    // USD 10.00 at 151.37 + JPY 500 at 1 + BHD 1.000 at 402.5 = 1513.7 + 500 + 402.5 = 2416.2 -> JPY 2416
    expect(
      sumConverted(
        [
          { amount: 1_000n, fromExponent: 2, rate: rate('151.37') },
          { amount: 500n, fromExponent: 0, rate: rate('1') },
          { amount: 1_000n, fromExponent: 3, rate: rate('402.5') },
        ],
        0,
      ),
    ).toBe(2_416n);
    expect(sumConverted([], 2)).toBe(0n);
  });

  it('refuses a total beyond int64', () => {
    const big = { amount: INT64_MAX, fromExponent: 2, rate: rate('1') };
    expect(sumConverted([big, { amount: 1n, fromExponent: 2, rate: rate('1') }], 2)).toBeUndefined();
  });
});
