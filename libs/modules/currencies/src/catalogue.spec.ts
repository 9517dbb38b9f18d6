import { Violations } from '@tally/platform';
import { describe, expect, it } from 'vitest';
import { currencies, money } from './index.js';

describe('ISO 4217 catalogue', () => {
  it('knows each currency with its minor-unit exponent', () => {
    expect(currencies.find('USD')).toMatchObject({ exponent: 2, numericCode: 840, name: 'US Dollar' });
    expect(currencies.find('JPY')?.exponent).toBe(0);
    expect(currencies.find('BHD')?.exponent).toBe(3);
    expect(currencies.find('CLF')?.exponent).toBe(4);
  });

  it('holds the active codes, ordered and unique, without units that have no minor unit', () => {
    const codes = currencies.list().map((c) => c.code);
    expect(codes.length).toBeGreaterThan(150);
    expect([...codes].sort()).toEqual(codes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const metalOrTest of ['XAU', 'XAG', 'XTS', 'XXX', 'XDR']) expect(currencies.find(metalOrTest)).toBeUndefined();
  });

  it('refuses unknown, lowercase and empty codes with a field violation each', () => {
    const v = new Violations();
    expect(currencies.checkCurrencyCode(v, 'currencies[0]', 'usd')).toBeUndefined();
    expect(currencies.checkCurrencyCode(v, 'currencies[1]', 'ABC')).toBeUndefined();
    expect(currencies.checkCurrencyCode(v, 'currencies[2]', '')).toBeUndefined();
    expect(currencies.checkCurrencyCode(v, 'currencies[3]', 'EUR')?.code).toBe('EUR');
    expect(v.all.map((x) => x.field)).toEqual(['currencies[0]', 'currencies[1]', 'currencies[2]']);
    expect(v.all[0]?.description).toContain('did you mean USD?');
  });
});

describe('money in minor units', () => {
  it('accepts only positive int64 amounts', () => {
    const v = new Violations();
    expect(currencies.checkPositiveAmount(v, 'amount', 1n)).toBe(true);
    expect(currencies.checkPositiveAmount(v, 'amount', money.INT64_MAX)).toBe(true);
    expect(currencies.checkPositiveAmount(v, 'amount', 0n)).toBe(false);
    expect(currencies.checkPositiveAmount(v, 'amount', -5n)).toBe(false);
    expect(currencies.checkPositiveAmount(v, 'amount', money.INT64_MAX + 1n)).toBe(false);
    expect(v.all).toHaveLength(3);
  });

  it('adds within int64 and refuses to overflow', () => {
    expect(money.addMinorUnits(money.INT64_MAX - 1n, 1n)).toBe(money.INT64_MAX);
    expect(money.addMinorUnits(money.INT64_MAX, 1n)).toBeUndefined();
    expect(money.addMinorUnits(money.INT64_MIN, -1n)).toBeUndefined();
  });

  it('formats minor units in major units for each exponent', () => {
    expect(money.formatMinorUnits(12345n, 2)).toBe('123.45');
    expect(money.formatMinorUnits(-5n, 2)).toBe('-0.05');
    expect(money.formatMinorUnits(1000n, 0)).toBe('1000');
    expect(money.formatMinorUnits(1n, 3)).toBe('0.001');
  });
});
