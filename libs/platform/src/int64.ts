/**
 * The range of PostgreSQL bigint and protobuf int64, where every balance, amount, entry id and
 * operation sequence number lives: the one definition (money arithmetic reads it from here).
 */
export const INT64_MAX = 9_223_372_036_854_775_807n;
export const INT64_MIN = -9_223_372_036_854_775_808n;

export function isInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** A decimal string of a non-negative int64 (an id or sequence number as a cursor carries it). */
export function isInt64Digits(text: string): boolean {
  return /^\d{1,19}$/.test(text) && BigInt(text) <= INT64_MAX;
}
