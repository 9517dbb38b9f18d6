import type { Violations } from '@tally/platform';
import { catalogue, type Currency } from './catalogue.js';
import { isInt64 } from './money.js';

/** Records a violation unless `code` is an ISO 4217 code of the catalogue. */
export function checkCurrencyCode(v: Violations, field: string, code: string): Currency | undefined {
  if (code === '') {
    v.add(field, 'is required (an ISO 4217 code such as USD)');
    return undefined;
  }
  const currency = catalogue.find(code);
  if (currency) return currency;
  const hint = /^[a-z]{3}$/.test(code) && catalogue.find(code.toUpperCase()) ? ` (did you mean ${code.toUpperCase()}?)` : '';
  v.add(field, `${JSON.stringify(code.slice(0, 16))} is not a supported ISO 4217 currency code${hint}`);
  return undefined;
}

/** Records a violation unless `amount` is a positive int64 count of minor units. */
export function checkPositiveAmount(v: Violations, field: string, amount: bigint): boolean {
  return v.check(amount > 0n && isInt64(amount), field, 'must be a positive whole number of minor units within int64');
}
