import { describe, expect, it } from 'vitest';
import { violationsOf } from '../internal/violations.testing.js';
import { checkTransferFields, type TransferInput } from './check.js';

const from = '0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a55';
const to = '0193f5a2-7c1e-7b3a-9f00-2b6c4d8e1a56';
const good: TransferInput = { fromLedgerId: from, toLedgerId: to, transactionId: 'tr-1', currency: 'USD', amount: 1050n, metadata: { z: '1', a: '2' } };

describe('SubmitTransfer validation', () => {
  it('accepts a transfer and records it canonically: fixed key order, metadata sorted, amount a decimal string', () => {
    const prepared = checkTransferFields(good);
    expect(prepared).toEqual({ fromLedgerId: from, toLedgerId: to, transactionId: 'tr-1', request: { toLedgerId: to, currency: 'USD', amount: '1050', metadata: { a: '2', z: '1' } } });
    expect(JSON.stringify(prepared.request)).toBe(`{"toLedgerId":"${to}","currency":"USD","amount":"1050","metadata":{"a":"2","z":"1"}}`);
  });

  it('names every bad field at once, as SubmitTransferRequest names them', () => {
    const fields = violationsOf(() =>
      checkTransferFields({ fromLedgerId: 'nope', toLedgerId: '', transactionId: 'bad id!', currency: 'EURO', amount: 0n, metadata: { '': 'x' } }),
    ).map((v) => v.field);
    expect(fields).toEqual(['from_ledger_id', 'to_ledger_id', 'transaction_id', 'currency', 'amount', 'metadata[""]']);
  });

  it('refuses a transfer from a ledger to itself', () => {
    expect(violationsOf(() => checkTransferFields({ ...good, toLedgerId: from }))).toEqual([
      { field: 'to_ledger_id', description: 'must differ from from_ledger_id' },
    ]);
  });

  it('refuses negative amounts and amounts beyond int64', () => {
    expect(violationsOf(() => checkTransferFields({ ...good, amount: -5n }))[0]?.field).toBe('amount');
    expect(violationsOf(() => checkTransferFields({ ...good, amount: 2n ** 63n }))[0]?.field).toBe('amount');
    expect(checkTransferFields({ ...good, amount: 2n ** 63n - 1n }).request.amount).toBe('9223372036854775807');
  });

  it('holds metadata to the SubmitTransaction limits', () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    expect(violationsOf(() => checkTransferFields({ ...good, metadata: many }))).toEqual([{ field: 'metadata', description: 'must have at most 16 entries' }]);
  });
});
