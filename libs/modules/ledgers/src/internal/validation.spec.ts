import { describe, expect, it } from 'vitest';
import { validateCreateLedger, validateLedgerCurrency } from './validation.js';
import { violationsOf } from './violations.testing.js';

const good = { name: 'Acme operating', currencies: ['USD', 'EUR', 'JPY'], overdraftAllowed: false, requestId: '' };

describe('CreateLedger validation', () => {
  it('accepts a named ledger with known, distinct currencies', () => {
    const valid = validateCreateLedger(good);
    expect(valid.currencies.map((c) => [c.code, c.exponent])).toEqual([['USD', 2], ['EUR', 2], ['JPY', 0]]);
    expect(valid.requestId).toBeNull();
  });

  it('names every bad field at once', () => {
    const fields = violationsOf(() =>
      validateCreateLedger({ name: '', currencies: ['USD', 'XYZ', 'USD'], overdraftAllowed: false, requestId: 'bad id!' }),
    ).map((v) => v.field);
    expect(fields).toEqual(['name', 'currencies[1]', 'currencies[2]', 'request_id']);
  });

  it('refuses a 10,000-character name, saying how long it may be', () => {
    const [violation] = violationsOf(() => validateCreateLedger({ ...good, name: 'x'.repeat(10_000) }));
    expect(violation).toEqual({ field: 'name', description: 'must have at most 200 characters (got 10000)' });
  });

  it('counts characters, not UTF-16 units, and refuses control characters and blank names', () => {
    expect(validateCreateLedger({ ...good, name: '💶'.repeat(200) }).name).toHaveLength(400);
    expect(violationsOf(() => validateCreateLedger({ ...good, name: 'a\u0000b' }))[0]?.field).toBe('name');
    expect(violationsOf(() => validateCreateLedger({ ...good, name: '   ' }))[0]?.field).toBe('name');
  });

  it('requires at least one currency', () => {
    expect(violationsOf(() => validateCreateLedger({ ...good, currencies: [] }))[0]?.field).toBe('currencies');
  });
});

describe('EnableCurrency and DisableCurrency validation', () => {
  it('needs a UUID ledger id and a catalogue currency', () => {
    const fields = violationsOf(() => validateLedgerCurrency('nope', 'EURO')).map((v) => v.field);
    expect(fields).toEqual(['ledger_id', 'currency']);
  });
});
