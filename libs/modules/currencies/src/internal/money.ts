/**
 * Money is an integer count of a currency's minor units, held as a bigint and stored as
 * PostgreSQL bigint and protobuf int64. No floating point touches it anywhere.
 */

import { INT64_MAX, INT64_MIN, isInt64 } from '@tally/platform';

/** A balance holds what an int64 holds (the range is the platform's). */
export { INT64_MAX, INT64_MIN, isInt64 };

/** a + b, or `undefined` when the sum leaves the int64 range a balance can hold. */
export function addMinorUnits(a: bigint, b: bigint): bigint | undefined {
  const sum = a + b;
  return isInt64(sum) ? sum : undefined;
}

/** Renders minor units as a decimal string in major units: (12345n, 2) -> "123.45". */
export function formatMinorUnits(amount: bigint, exponent: number): string {
  if (!Number.isInteger(exponent) || exponent < 0) throw new RangeError(`bad exponent ${exponent}`);
  const sign = amount < 0n ? '-' : '';
  const digits = (amount < 0n ? -amount : amount).toString().padStart(exponent + 1, '0');
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
