import { create } from '@bufbuild/protobuf';
import { OperationKind, OperationSchema, OperationStatus } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { failureFacts, operationTitle, outcomeText } from './operation-text.js';

const exponentOf = (code: string) => (code === 'JPY' ? 0 : 2);

describe('operationTitle', () => {
  it('reads a transaction as a credit or a debit from its result', () => {
    const credit = create(OperationSchema, {
      kind: OperationKind.TRANSACTION,
      result: { balanceChanges: [{ ledgerId: 'l', currency: 'USD', amount: 1050n, balanceAfter: 1050n }] },
    });
    const debit = create(OperationSchema, {
      kind: OperationKind.TRANSACTION,
      result: { balanceChanges: [{ ledgerId: 'l', currency: 'JPY', amount: -500n, balanceAfter: 0n }] },
    });
    expect(operationTitle(credit, 'l', exponentOf)).toBe('Credit 10.50 USD');
    expect(operationTitle(debit, 'l', exponentOf)).toBe('Debit 500 JPY');
    expect(operationTitle(create(OperationSchema, { kind: OperationKind.TRANSACTION }), 'l', exponentOf)).toBe('Transaction');
  });

  it('reads a debit refused for funds from its failure details', () => {
    const refused = create(OperationSchema, {
      kind: OperationKind.TRANSACTION,
      status: OperationStatus.FAILED,
      error: { code: 'INSUFFICIENT_FUNDS', details: { amount: '250000', currency: 'GBP', balance: '98050' } },
    });
    expect(operationTitle(refused, 'l', exponentOf)).toBe('Debit 2,500.00 GBP');
  });

  it('says which way a transfer goes for the ledger being viewed, and how much', () => {
    const transfer = create(OperationSchema, {
      kind: OperationKind.TRANSFER,
      ledgerId: 'a',
      toLedgerId: 'b',
      result: {
        balanceChanges: [
          { ledgerId: 'a', currency: 'USD', amount: -325n, balanceAfter: 0n },
          { ledgerId: 'b', currency: 'USD', amount: 325n, balanceAfter: 325n },
        ],
      },
    });
    expect(operationTitle(transfer, 'a', exponentOf)).toBe('Transfer out 3.25 USD');
    expect(operationTitle(transfer, 'b', exponentOf)).toBe('Transfer in 3.25 USD');
    expect(operationTitle(create(OperationSchema, { kind: OperationKind.TRANSFER, ledgerId: 'a' }), 'a', exponentOf)).toBe('Transfer out');
  });

  it('names both currencies of an applied exchange', () => {
    const exchange = create(OperationSchema, {
      kind: OperationKind.EXCHANGE,
      ledgerId: 'l',
      result: {
        balanceChanges: [
          { ledgerId: 'l', currency: 'USD', amount: -50000n, balanceAfter: 0n },
          { ledgerId: 'l', currency: 'JPY', amount: 7500n, balanceAfter: 7500n },
        ],
      },
    });
    expect(operationTitle(exchange, 'l', exponentOf)).toBe('Exchange 500.00 USD to JPY');
  });
});

describe('outcomeText', () => {
  it('says the failure reason of a FAILED operation', () => {
    const failed = create(OperationSchema, { status: OperationStatus.FAILED, error: { code: 'INSUFFICIENT_FUNDS', message: 'balance 10.50 USD is below 100.00' } });
    expect(outcomeText('Debit 100.00 USD', failed)).toBe('Debit 100.00 USD failed: INSUFFICIENT_FUNDS: balance 10.50 USD is below 100.00.');
    expect(outcomeText('Credit 1.00 USD', create(OperationSchema, { status: OperationStatus.COMPLETED }))).toBe('Credit 1.00 USD: completed.');
  });
});

describe('failureFacts', () => {
  it('states the money facts in the currency\'s units', () => {
    expect(failureFacts({ amount: '250000', balance: '98050', currency: 'GBP' }, exponentOf)).toBe('balance 980.50 GBP, amount 2,500.00 GBP');
    expect(failureFacts({ amount: '500', currency: 'JPY' }, exponentOf)).toBe('amount 500 JPY');
  });

  it('says nothing without a currency it knows', () => {
    expect(failureFacts({ amount: '5' }, exponentOf)).toBeUndefined();
    expect(failureFacts({ amount: '5', currency: 'XYZ' }, () => { throw new Error('unknown'); })).toBeUndefined();
    expect(failureFacts({ currency: 'USD', reason: 'closed' }, exponentOf)).toBeUndefined();
  });
});
