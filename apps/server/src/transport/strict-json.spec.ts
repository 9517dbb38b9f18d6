import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { ConnectError, Code } from '@connectrpc/connect';
import { BadRequestSchema, CreateLedgerRequestSchema, ListLedgersRequestSchema, SubmitTransactionsRequestSchema, SubmitTransactionRequestSchema, WatchLedgerResponseSchema } from '@tally/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonViolations, MAX_REPORTED_VIOLATIONS, strictJsonOptions } from './strict-json.js';

/** Strict reading of JSON requests: what protobuf-es would read loosely is refused, naming the field. */

const submit = (amount: JsonValue) => ({ ledgerId: 'l', transactionId: 't', type: 'TRANSACTION_TYPE_CREDIT', amount, currency: 'USD' });
const fields = (schema: Parameters<typeof jsonViolations>[0], json: unknown) => jsonViolations(schema, json).map((v) => v.field);

describe('int64 in JSON', () => {
  it.each([
    // As JSON.parse reads the text 9007199254740993: 9007199254740992, already a digit off.
    ['a JSON number beyond 2^53, which loses digits when read', JSON.parse('9007199254740993') as number],
    ['hexadecimal', '0x10'],
    ['a leading zero', '010'],
    ['a leading space', ' 12'],
    ['a plus sign', '+5'],
    ['an exponent in a string', '1e3'],
    ['a fraction', 1.5],
    ['a string beyond int64', '9223372036854775808'],
    ['an empty string', ''],
    ['a boolean', true],
  ])('refuses %s, naming the field', (_what, amount) => {
    expect(fields(SubmitTransactionRequestSchema, submit(amount))).toEqual(['amount']);
  });

  it.each([
    ['the int64 edges as strings', '9223372036854775807'],
    ['the lowest int64', '-9223372036854775808'],
    ['a negative string (the module refuses it, naming the field too)', '-1'],
    ['zero', '0'],
    ['the largest safe JSON number', 9007199254740991],
    ['a JSON number in exponent form that is a safe integer', 1e3],
  ])('reads %s', (_what, amount) => {
    expect(jsonViolations(SubmitTransactionRequestSchema, submit(amount))).toEqual([]);
  });

  it('names the item of a batch by its path', () => {
    const batch = { transactions: [submit('1'), submit(' 12'), submit('3')] };
    expect(fields(SubmitTransactionsRequestSchema, batch)).toEqual(['transactions[1].amount']);
  });

  it('reads every decimal int64 string to the same value protobuf-es does, and refuses every other text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        expect(jsonViolations(SubmitTransactionRequestSchema, submit(String(n)))).toEqual([]);
        expect(fromJson(SubmitTransactionRequestSchema, submit(String(n))).amount).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const decimal = /^-?(0|[1-9][0-9]*)$/.test(text) && BigInt(text) >= -(2n ** 63n) && BigInt(text) < 2n ** 63n;
        expect(jsonViolations(SubmitTransactionRequestSchema, submit(text)).length === 0).toBe(decimal);
      }),
    );
  });
});

describe('other JSON problems, each named', () => {
  it.each([
    ['an unknown key', { name: 'n', currencies: ['USD'], overdraft: true }, CreateLedgerRequestSchema, ['overdraft']],
    ['a string where a list belongs', { name: 'n', currencies: 'USD' }, CreateLedgerRequestSchema, ['currencies']],
    ['null in a list', { name: 'n', currencies: ['USD', null] }, CreateLedgerRequestSchema, ['currencies[1]']],
    ['a number where a string belongs', { name: 7 }, CreateLedgerRequestSchema, ['name']],
    ['a lone surrogate', { name: 'a\ud800b' }, CreateLedgerRequestSchema, ['name']],
    ['a string where a bool belongs', { overdraftAllowed: 'yes' }, CreateLedgerRequestSchema, ['overdraft_allowed']],
    ['an int32 in hex', { pageSize: '0x10' }, ListLedgersRequestSchema, ['page_size']],
    ['an int32 out of range', { pageSize: 2 ** 31 }, ListLedgersRequestSchema, ['page_size']],
    ['an enum name the enum does not have', { type: 'TRANSACTION_TYPE_GIFT' }, SubmitTransactionRequestSchema, ['type']],
    ['a map value that is not a string', { metadata: { k: 1 } }, SubmitTransactionRequestSchema, ['metadata["k"]']],
    ['a body that is no object', [1, 2], SubmitTransactionRequestSchema, ['']],
    ['an item that is no object', { transactions: [submit('1'), 'x'] }, SubmitTransactionsRequestSchema, ['transactions[1]']],
    ['a oneof set twice', { operation: {}, balanceChange: {} }, WatchLedgerResponseSchema, ['balance_change']],
  ])('%s', (_what, json, schema, expected) => {
    expect(fields(schema, json)).toEqual(expected);
  });

  it('reads both the JSON name and the proto name of a field, null as unset, and an enum by number', () => {
    expect(jsonViolations(SubmitTransactionRequestSchema, { ledger_id: 'l', transactionId: null, type: 99, metadata: { a: 'b' } })).toEqual([]);
  });

  it('names at most MAX_REPORTED_VIOLATIONS fields', () => {
    const batch = { transactions: Array.from({ length: 1_000 }, () => submit('0x1')) };
    expect(jsonViolations(SubmitTransactionsRequestSchema, batch)).toHaveLength(MAX_REPORTED_VIOLATIONS);
  });

  it('passes only JSON that protobuf-es then reads without error', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt().map(String));
    const request = fc.record(
      {
        ledgerId: value,
        transactionId: value,
        type: fc.oneof(value, fc.constantFrom('TRANSACTION_TYPE_CREDIT', 'TRANSACTION_TYPE_DEBIT')),
        amount: value,
        currency: value,
        metadata: fc.oneof(value, fc.dictionary(fc.string(), value)),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(request, (json) => {
        if (jsonViolations(SubmitTransactionRequestSchema, json).length === 0) fromJson(SubmitTransactionRequestSchema, json);
      }),
    );
  });
});

describe('the decoder Connect reads request bodies with', () => {
  const { textDecoder } = strictJsonOptions(SubmitTransactionRequestSchema, {}) as { textDecoder: { decode(bytes: Uint8Array): string } };
  const refusal = (bytes: Uint8Array): ConnectError => {
    try {
      textDecoder.decode(bytes);
    } catch (error) {
      if (error instanceof ConnectError) return error;
    }
    throw new Error('expected a ConnectError');
  };

  it('refuses bytes that are not UTF-8 and text that is not JSON, as INVALID_ARGUMENT with a BadRequest', () => {
    for (const bytes of [Buffer.from([0x7b, 0xff, 0x7d]), Buffer.from('{"ledgerId":')]) {
      const error = refusal(bytes);
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.findDetails(BadRequestSchema)[0]?.fieldViolations).toHaveLength(1);
    }
  });

  it('refuses a loose int64 naming it in a BadRequest, and returns valid JSON unchanged', () => {
    const error = refusal(Buffer.from(JSON.stringify(submit('0x10'))));
    expect(error.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual(['amount']);
    const text = JSON.stringify(submit('12'));
    expect(textDecoder.decode(Buffer.from(text))).toBe(text);
  });
});
