/**
 * Money as the API carries it: int64 minor units (cents for USD, yen for JPY) with the
 * currency's ISO 4217 exponent. Never a binary float: text is parsed and printed digit by digit.
 */

/** The largest amount an int64 holds: balances and amounts never go beyond it. */
export const MAX_MINOR_UNITS = 2n ** 63n - 1n;

/** The largest exponent ISO 4217 uses (4 for CLF, UYW); more is a bug, not a currency. */
const MAX_EXPONENT = 4;

/** `1234567n, 2` → `12,345.67`; `-5n, 2` → `-0.05`; `500n, 0` → `500`. */
export function formatMinorUnits(amount: bigint, exponent: number): string {
  checkExponent(exponent);
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  return `${negative ? '-' : ''}${grouped}${exponent > 0 ? `.${fraction}` : ''}`;
}

export type ParsedAmount = { readonly ok: true; readonly minorUnits: bigint } | { readonly ok: false; readonly problem: string };

/**
 * What a person types into an amount field (`10.50`, `10.5`, `1000`), in minor units of a
 * currency with `exponent` decimals. Only positive amounts: every amount the API takes is
 * greater than zero. Thousands separators are refused rather than guessed at (`1,000` is a
 * thousand in one locale and one in another).
 */
export function parseAmount(text: string, exponent: number): ParsedAmount {
  checkExponent(exponent);
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, problem: 'enter an amount' };
  const match = /^(\d+)(?:\.(\d*))?$/.exec(trimmed);
  if (!match) return { ok: false, problem: 'use digits and at most one decimal point, like 10.50' };
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    return { ok: false, problem: exponent === 0 ? 'this currency has no decimals' : `at most ${exponent} decimal${exponent === 1 ? '' : 's'}` };
  }
  const minorUnits = BigInt(whole + fraction.padEnd(exponent, '0'));
  if (minorUnits === 0n) return { ok: false, problem: 'must be greater than zero' };
  if (minorUnits > MAX_MINOR_UNITS) return { ok: false, problem: 'too large' };
  return { ok: true, minorUnits };
}

function checkExponent(exponent: number): void {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > MAX_EXPONENT) {
    throw new RangeError(`currency exponent ${exponent} is outside 0..${MAX_EXPONENT}`);
  }
}
