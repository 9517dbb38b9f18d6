import { OperationStatus, TransactionType } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { isTerminal, prepareSubmission, type Submission } from './submission.js';
import { TallyError } from './tally-error.js';

const credit = { ledgerId: 'l-1', type: TransactionType.CREDIT, amount: 1050n, currency: 'USD' };
const newId = () => 'made-id';

describe('prepareSubmission', () => {
  it('fixes a new transaction id when none is given', () => {
    expect(prepareSubmission({ transaction: credit }, newId)).toEqual({
      kind: 'transaction',
      transactionId: 'made-id',
      request: { ...credit, transactionId: 'made-id' },
    });
  });

  it("keeps the caller's transaction id", () => {
    const prepared = prepareSubmission({ transfer: { fromLedgerId: 'a', toLedgerId: 'b', transactionId: 'mine', amount: 5n, currency: 'EUR' } }, newId);
    expect(prepared).toMatchObject({ kind: 'transfer', transactionId: 'mine', request: { transactionId: 'mine' } });
  });

  it('takes an exchange', () => {
    expect(prepareSubmission({ exchange: { ledgerId: 'l-1', fromCurrency: 'USD', toCurrency: 'JPY', amount: 1n } }, newId).kind).toBe('exchange');
  });

  it.each([{}, { transaction: credit, exchange: { ledgerId: 'l-1' } }])('refuses anything but exactly one kind: %o', (submission) => {
    expect(() => prepareSubmission(submission as Submission, newId)).toThrow(TallyError);
  });
});

describe('isTerminal', () => {
  it('is true for COMPLETED, FAILED and CANCELLED only', () => {
    const terminal = Object.values(OperationStatus).filter((s): s is OperationStatus => typeof s === 'number' && isTerminal(s));
    expect(terminal.sort()).toEqual([OperationStatus.COMPLETED, OperationStatus.FAILED, OperationStatus.CANCELLED].sort());
  });
});
