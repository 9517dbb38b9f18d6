import { isInt64 } from './money.js';

/**
 * Currency conversion without floating point. A rate is an exact fraction (units of the target
 * currency per unit of the source, in major units); a converted amount is rounded to the
 * target's minor unit by one rule, half-even ("banker's rounding"), here and nowhere else.
 */

/** Units of `to` per unit of `from`, exactly: numerator / denominator, both positive, reduced. */
export interface ExactRate {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/** Longest decimal rate accepted, in digits: enough for any real rate, bounded for safety. */
export const MAX_RATE_DIGITS = 30;
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** Parses a decimal rate such as "1.0842" or "151.37"; `undefined` unless it is positive and plain decimal. */
export function parseRate(text: string): ExactRate | undefined {
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const [, whole, fraction = ''] = match as unknown as [string, string, string | undefined];
  if (whole.length + fraction.length > MAX_RATE_DIGITS) return undefined;
  const numerator = BigInt(whole + fraction);
  if (numerator === 0n) return undefined;
  return reduce(numerator, 10n ** BigInt(fraction.length));
}

/** The rate as a plain decimal string with at most `maxFractionDigits` digits, rounded half-even. */
export function formatRate(rate: ExactRate, maxFractionDigits = 12): string {
  const scaled = roundHalfEven(rate.numerator * 10n ** BigInt(maxFractionDigits), rate.denominator);
  const digits = scaled.toString().padStart(maxFractionDigits + 1, '0');
  const whole = digits.slice(0, digits.length - maxFractionDigits);
  const fraction = digits.slice(digits.length - maxFractionDigits).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

/** The rate of the opposite direction. */
export function invertRate(rate: ExactRate): ExactRate {
  return { numerator: rate.denominator, denominator: rate.numerator };
}

/** a then b: from A to C through B. */
export function chainRates(a: ExactRate, b: ExactRate): ExactRate {
  return reduce(a.numerator * b.numerator, a.denominator * b.denominator);
}

/**
 * Converts `amount` minor units of a currency with exponent `fromExponent` into minor units of
 * one with exponent `toExponent` at `rate`, rounded half-even. `undefined` when the result
 * does not fit in int64 (refuse, never wrap or saturate).
 *
 *   convertMinorUnits(1_000n, 2, 0, parseRate('151.37')) // USD 10.00 -> JPY 1514 (1513.7)
 */
export function convertMinorUnits(amount: bigint, fromExponent: number, toExponent: number, rate: ExactRate): bigint | undefined {
  checkExponent(fromExponent);
  checkExponent(toExponent);
  if (rate.numerator <= 0n || rate.denominator <= 0n) throw new RangeError('a rate must be positive');
  const numerator = amount * rate.numerator * 10n ** BigInt(toExponent);
  const denominator = rate.denominator * 10n ** BigInt(fromExponent);
  const converted = roundHalfEven(numerator, denominator);
  return isInt64(converted) ? converted : undefined;
}

/**
 * The sum of several amounts, each converted into the target currency at its own rate, rounded
 * once (half-even) at the end: a total without a rounding error per term.
 */
export function sumConverted(
  terms: ReadonlyArray<{ readonly amount: bigint; readonly fromExponent: number; readonly rate: ExactRate }>,
  toExponent: number,
): bigint | undefined {
  checkExponent(toExponent);
  let numerator = 0n;
  let denominator = 1n;
  for (const { amount, fromExponent, rate } of terms) {
    checkExponent(fromExponent);
    const n = amount * rate.numerator * 10n ** BigInt(toExponent);
    const d = rate.denominator * 10n ** BigInt(fromExponent);
    [numerator, denominator] = [numerator * d + n * denominator, denominator * d];
    const divisor = gcd(numerator, denominator);
    [numerator, denominator] = [numerator / divisor, denominator / divisor];
  }
  const total = roundHalfEven(numerator, denominator);
  return isInt64(total) ? total : undefined;
}

/** numerator / denominator rounded to the nearest integer, ties to the even neighbour. */
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) return roundHalfEven(-numerator, -denominator);
  const quotient = numerator / denominator; // truncates toward zero
  const remainder = numerator % denominator; // same sign as numerator
  const twice = 2n * (remainder < 0n ? -remainder : remainder);
  const awayFromZero = numerator < 0n ? quotient - 1n : quotient + 1n;
  if (twice > denominator) return awayFromZero;
  if (twice < denominator) return quotient;
  return quotient % 2n === 0n ? quotient : awayFromZero;
}

function reduce(numerator: bigint, denominator: bigint): ExactRate {
  const divisor = gcd(numerator, denominator);
  return { numerator: numerator / divisor, denominator: denominator / divisor };
}

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a < 0n ? -a : a, b < 0n ? -b : b];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function checkExponent(exponent: number): void {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > 4) throw new RangeError(`bad minor-unit exponent ${exponent}`);
}
