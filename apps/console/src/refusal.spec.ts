import { describe, expect, it } from 'vitest';
import { describeRefusal, fieldOf } from './refusal.js';

describe('describeRefusal', () => {
  it('says the code, the reason and the message in one line', () => {
    const refusal = describeRefusal({ code: 9, rawMessage: 'balance too low', reason: 'INSUFFICIENT_FUNDS', requestId: 'r-1' });
    expect(refusal.summary).toBe('FAILED_PRECONDITION (INSUFFICIENT_FUNDS): balance too low');
    expect(refusal.requestId).toBe('r-1');
    expect(refusal.byField.size).toBe(0);
  });

  it('groups violations by the form field they name', () => {
    const refusal = describeRefusal({
      code: 3,
      rawMessage: 'invalid request',
      violations: [
        { field: 'name', description: 'must not be empty' },
        { field: 'currencies[1]', description: '"XYZ" is not a supported ISO 4217 currency code' },
        { field: 'currencies[2]', description: 'repeated' },
      ],
    });
    expect(refusal.summary).toBe('INVALID_ARGUMENT: invalid request');
    expect(Object.fromEntries(refusal.byField)).toEqual({
      name: ['must not be empty'],
      currencies: ['currencies[1]: "XYZ" is not a supported ISO 4217 currency code', 'currencies[2]: repeated'],
    });
  });

  it('names codes it does not know by number', () => {
    expect(describeRefusal({ code: 42, rawMessage: '' }).summary).toBe('code 42: no message');
  });
});

describe('fieldOf', () => {
  it('drops indexes and nested paths', () => {
    expect(fieldOf('amount')).toBe('amount');
    expect(fieldOf('currencies[0]')).toBe('currencies');
    expect(fieldOf('metadata.key')).toBe('metadata');
  });
});
