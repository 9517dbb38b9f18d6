import { currencies, type Currency } from '@tally/currencies';
import { checkClientKey, checkText, checkUuid, Violations } from '@tally/platform';
import { MAX_NAME_CHARS } from './schema.js';

/** A ledger may hold every currency of the catalogue, and no more. */
export const MAX_CURRENCIES_PER_LEDGER = 200;

export interface CreateLedgerInput {
  readonly name: string;
  readonly currencies: readonly string[];
  readonly overdraftAllowed: boolean;
  /** Idempotency key; empty for none. */
  readonly requestId: string;
}

export interface ValidCreateLedger {
  readonly name: string;
  readonly currencies: readonly Currency[];
  readonly overdraftAllowed: boolean;
  readonly requestId: string | null;
}

/** Checks a CreateLedger request, naming every bad field; pure. */
export function validateCreateLedger(input: CreateLedgerInput): ValidCreateLedger {
  const v = new Violations();
  checkText(v, 'name', input.name, { minChars: 1, maxChars: MAX_NAME_CHARS });
  if (input.name.trim() === '' && input.name !== '') v.add('name', 'must not be only white space');
  const found: Currency[] = [];
  if (input.currencies.length === 0) {
    v.add('currencies', 'must list at least one ISO 4217 currency code');
  } else if (input.currencies.length > MAX_CURRENCIES_PER_LEDGER) {
    v.add('currencies', `must list at most ${MAX_CURRENCIES_PER_LEDGER} currencies`);
  } else {
    const seen = new Set<string>();
    input.currencies.forEach((code, i) => {
      const currency = currencies.checkCurrencyCode(v, `currencies[${i}]`, code);
      if (!currency) return;
      if (seen.has(currency.code)) {
        v.add(`currencies[${i}]`, `${currency.code} is listed more than once`);
        return;
      }
      seen.add(currency.code);
      found.push(currency);
    });
  }
  if (input.requestId !== '') checkClientKey(v, 'request_id', input.requestId);
  v.throwIfAny();
  return {
    name: input.name,
    currencies: found,
    overdraftAllowed: input.overdraftAllowed,
    requestId: input.requestId === '' ? null : input.requestId,
  };
}

export function validateLedgerId(ledgerId: string, field = 'ledger_id'): string {
  const v = new Violations();
  checkUuid(v, field, ledgerId);
  v.throwIfAny();
  return ledgerId;
}

/** Checks an EnableCurrency or DisableCurrency request: a ledger and a catalogue currency. */
export function validateLedgerCurrency(ledgerId: string, code: string): { ledgerId: string; currency: Currency } {
  const v = new Violations();
  checkUuid(v, 'ledger_id', ledgerId);
  const currency = currencies.checkCurrencyCode(v, 'currency', code);
  v.throwIfAny();
  return { ledgerId, currency: currency! };
}
