/**
 * Exact decimal arithmetic for exchange rates: positive rationals of bigints, rounded half-even
 * to a fixed number of significant digits. No floating point anywhere, so a rate is the same
 * string on every run and every machine.
 */

/** A positive rational number `num / den`. Invariant: both are > 0. */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

/** Significant digits of every rate the provider quotes. */
export const RATE_SIGNIFICANT_DIGITS = 12;

/** Bounds on the decimals accepted as input (USD values, quotes), so the bigints stay small. */
export const MAX_INTEGER_DIGITS = 12;
export const MAX_FRACTION_DIGITS = 12;

const DECIMAL = new RegExp(`^(0|[1-9]\\d{0,${MAX_INTEGER_DIGITS - 1}})(?:\\.(\\d{1,${MAX_FRACTION_DIGITS}}))?$`);

/**
 * Parses a positive plain decimal such as "0.9215" or "151.37". Anything else (zero, a sign,
 * an exponent, leading zeros, spaces, too many digits) is undefined.
 */
export function parseDecimal(text: string): Ratio | undefined {
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  const num = BigInt(`${match[1] ?? ''}${fraction}`);
  if (num === 0n) return undefined;
  return { num, den: 10n ** BigInt(fraction.length) };
}

export function ratio(num: bigint, den: bigint): Ratio {
  if (num <= 0n || den <= 0n) throw new RangeError(`ratio ${num}/${den} is not positive`);
  return { num, den };
}

export function invert(value: Ratio): Ratio {
  return ratio(value.den, value.num);
}

export function divide(a: Ratio, b: Ratio): Ratio {
  return ratio(a.num * b.den, a.den * b.num);
}

/**
 * `value` rounded half-even to `digits` significant digits, as a plain decimal string: no
 * exponent, no trailing zeros after the point, "0." before a fraction below one.
 */
export function toSignificant(value: Ratio, digits: number = RATE_SIGNIFICANT_DIGITS): string {
  if (!Number.isInteger(digits) || digits < 1 || digits > 40) throw new RangeError(`cannot keep ${digits} significant digits`);
  ratio(value.num, value.den); // asserts positive
  const low = 10n ** BigInt(digits - 1);
  const high = low * 10n;

  // The coefficient q = floor(value * 10^scale) must have exactly `digits` digits. The digit
  // counts give the scale to within one; the loops settle it.
  let scale = digits - (value.num.toString().length - value.den.toString().length);
  let step = scaled(value, scale);
  while (step.q >= high) step = scaled(value, --scale);
  while (step.q < low) step = scaled(value, ++scale);

  let q = step.q;
  const twice = 2n * step.r;
  if (twice > step.d || (twice === step.d && q % 2n === 1n)) q += 1n;
  if (q === high) {
    // 999.9995 -> 1000.000: one digit too many; drop a zero rather than a significant digit.
    q = low;
    scale -= 1;
  }
  return formatScaled(q, scale);
}

/** The rate from A to B: how many units of B one unit of A buys, given both values in USD. */
export function rateBetween(usdValueOfA: Ratio, usdValueOfB: Ratio): string {
  return toSignificant(divide(usdValueOfA, usdValueOfB));
}

/** Significant digits of a plain decimal string: what is left without leading and trailing zeros. */
export function significantDigits(text: string): number {
  const digits = text.replace('.', '').replace(/^0+/, '');
  return text.includes('.') ? digits.length : digits.replace(/0+$/, '').length;
}

/** q, r, d with value * 10^scale = (q * d + r) / d and 0 <= r < d. */
function scaled(value: Ratio, scale: number): { q: bigint; r: bigint; d: bigint } {
  const n = scale >= 0 ? value.num * 10n ** BigInt(scale) : value.num;
  const d = scale >= 0 ? value.den : value.den * 10n ** BigInt(-scale);
  return { q: n / d, r: n % d, d };
}

/** The decimal string of q * 10^-scale. */
function formatScaled(coefficient: bigint, scale: number): string {
  let q = coefficient;
  let s = scale;
  while (s > 0 && q % 10n === 0n) {
    q /= 10n;
    s -= 1;
  }
  if (s <= 0) return `${q}${'0'.repeat(-s)}`;
  const text = q.toString().padStart(s + 1, '0');
  return `${text.slice(0, text.length - s)}.${text.slice(text.length - s)}`;
}
