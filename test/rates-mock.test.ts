import { currencies } from '@tally/currencies';
import { SUPPORTED_CODES } from '@tally/rates-mock';
import { describe, expect, it } from 'vitest';

/** The mock keeps its own list of currencies, as a real provider does; Tally must find all of its own there. */
describe('the rates mock', () => {
  it("quotes every currency of Tally's catalogue", () => {
    const quoted = new Set(SUPPORTED_CODES);
    expect(currencies.list().filter((c) => !quoted.has(c.code))).toEqual([]);
  });
});
