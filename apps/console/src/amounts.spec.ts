import { describe, expect, it } from 'vitest';
import { MAX_MINOR_UNITS, formatMinorUnits, parseAmount } from './amounts.js';

describe('formatMinorUnits', () => {
  it('places the decimal point by the exponent', () => {
    expect(formatMinorUnits(1050n, 2)).toBe('10.50');
    expect(formatMinorUnits(5n, 2)).toBe('0.05');
    expect(formatMinorUnits(0n, 2)).toBe('0.00');
    expect(formatMinorUnits(500n, 0)).toBe('500');
    expect(formatMinorUnits(1n, 3)).toBe('0.001');
  });

  it('groups thousands and keeps the sign', () => {
    expect(formatMinorUnits(123456789n, 2)).toBe('1,234,567.89');
    expect(formatMinorUnits(-1050n, 2)).toBe('-10.50');
    expect(formatMinorUnits(-5n, 2)).toBe('-0.05');
    expect(formatMinorUnits(1000000n, 0)).toBe('1,000,000');
  });

  it('prints int64 extremes exactly, which a float could not', () => {
    expect(formatMinorUnits(MAX_MINOR_UNITS, 2)).toBe('92,233,720,368,547,758.07');
    expect(formatMinorUnits(-MAX_MINOR_UNITS - 1n, 0)).toBe('-9,223,372,036,854,775,808');
  });

  it('refuses an exponent no currency has', () => {
    expect(() => formatMinorUnits(1n, -1)).toThrow(RangeError);
    expect(() => formatMinorUnits(1n, 5)).toThrow(RangeError);
  });
});

describe('parseAmount', () => {
  it('reads what people type into minor units', () => {
    expect(parseAmount('10.50', 2)).toEqual({ ok: true, minorUnits: 1050n });
    expect(parseAmount(' 10.5 ', 2)).toEqual({ ok: true, minorUnits: 1050n });
    expect(parseAmount('10', 2)).toEqual({ ok: true, minorUnits: 1000n });
    expect(parseAmount('10.', 2)).toEqual({ ok: true, minorUnits: 1000n });
    expect(parseAmount('1000', 0)).toEqual({ ok: true, minorUnits: 1000n });
    expect(parseAmount('0.001', 3)).toEqual({ ok: true, minorUnits: 1n });
  });

  it('round-trips with formatMinorUnits for every exponent', () => {
    for (const exponent of [0, 1, 2, 3, 4]) {
      for (const minor of [1n, 7n, 10n, 12345n, MAX_MINOR_UNITS]) {
        const text = formatMinorUnits(minor, exponent).replaceAll(',', '');
        expect(parseAmount(text, exponent)).toEqual({ ok: true, minorUnits: minor });
      }
    }
  });

  it('says what is wrong instead of guessing', () => {
    expect(parseAmount('', 2)).toEqual({ ok: false, problem: 'enter an amount' });
    expect(parseAmount('1,000', 2).ok).toBe(false);
    expect(parseAmount('-5', 2).ok).toBe(false);
    expect(parseAmount('1e3', 2).ok).toBe(false);
    expect(parseAmount('10.505', 2)).toEqual({ ok: false, problem: 'at most 2 decimals' });
    expect(parseAmount('10.5', 0)).toEqual({ ok: false, problem: 'this currency has no decimals' });
    expect(parseAmount('0.00', 2)).toEqual({ ok: false, problem: 'must be greater than zero' });
    expect(parseAmount('92233720368547758.08', 2)).toEqual({ ok: false, problem: 'too large' });
  });
});
