import { describe, expect, it } from 'vitest';
import type { OperationToApply } from '@tally/platform';
import type { BookingResult } from '../internal/booking/decide.js';
import { parseTransferRequest, TRANSFER_STAGE, transferBooking, transferOutcome } from './apply.js';
import { checkTransferFields, type TransferRequest } from './check.js';

const SOURCE = '0190a000-0000-7000-8000-000000000001';
const TARGET = '0190a000-0000-7000-8000-000000000002';
const request: TransferRequest = { toLedgerId: TARGET, currency: 'EUR', amount: '1250', metadata: {} };
const at = new Date('2026-11-25T12:00:00Z');

function claimed(stage: number, progress: Record<string, unknown> = {}): OperationToApply {
  return { id: 'op-1', ledgerId: SOURCE, toLedgerId: TARGET, transactionId: 't-1', request: { ...request }, stage, progress };
}

const booked = (ledgerId: string, amount: bigint, balanceAfter: bigint): BookingResult => ({
  ok: true,
  balanceChanges: [{ ledgerId, currency: 'EUR', amount, balanceAfter }],
});
const disabled: BookingResult = {
  ok: false,
  error: { code: 'CURRENCY_NOT_ENABLED', message: `EUR is not enabled on ledger ${TARGET}`, details: { ledger_id: TARGET, currency: 'EUR' } },
};

describe('a transfer, stage by stage', () => {
  it('debits the source into TRANSIT, then hands off to the target ledger', () => {
    expect(transferBooking(claimed(TRANSFER_STAGE.DEBIT), request)).toEqual({
      operationId: 'op-1',
      transactionId: 't-1',
      legs: [{ ledgerId: SOURCE, currency: 'EUR', delta: -1250n, counterparty: 'TRANSIT' }],
    });
    const outcome = transferOutcome(claimed(TRANSFER_STAGE.DEBIT), booked(SOURCE, -1250n, 750n), at);
    expect(outcome).toMatchObject({
      ok: true,
      steps: [{ name: 'SOURCE_DEBITED', status: 'COMPLETED' }],
      handOff: { stage: TRANSFER_STAGE.CREDIT, ledgerId: TARGET },
    });
  });

  it('ends FAILED with no hand-off when the debit is refused', () => {
    const refused: BookingResult = { ok: false, error: { code: 'INSUFFICIENT_FUNDS', message: 'short', details: {} } };
    const outcome = transferOutcome(claimed(TRANSFER_STAGE.DEBIT), refused, at);
    expect(outcome).toEqual({ ...refused, steps: [{ name: 'SOURCE_DEBITED', status: 'FAILED', time: at }] });
  });

  it('credits the target from TRANSIT and completes', () => {
    expect(transferBooking(claimed(TRANSFER_STAGE.CREDIT), request)).toMatchObject({
      legs: [{ ledgerId: TARGET, currency: 'EUR', delta: 1250n, counterparty: 'TRANSIT' }],
    });
    const outcome = transferOutcome(claimed(TRANSFER_STAGE.CREDIT), booked(TARGET, 1250n, 1250n), at);
    expect(outcome).toEqual({
      ok: true,
      balanceChanges: [{ ledgerId: TARGET, currency: 'EUR', amount: 1250n, balanceAfter: 1250n }],
      steps: [
        { name: 'TARGET_CREDITED', status: 'COMPLETED', time: at },
        { name: 'COMPLETED', status: 'COMPLETED', time: at },
      ],
    });
  });

  it('hands a refused credit back to the source, carrying the reason', () => {
    const outcome = transferOutcome(claimed(TRANSFER_STAGE.CREDIT), disabled, at);
    expect(outcome).toEqual({
      ok: true,
      balanceChanges: [],
      steps: [{ name: 'TARGET_CREDITED', status: 'FAILED', time: at }],
      handOff: { stage: TRANSFER_STAGE.RESTORE, ledgerId: SOURCE, progress: { refusal: disabled.ok ? undefined : disabled.error } },
    });
  });

  it('restores the source with a credit that applies even to a disabled currency, and ends FAILED with the reason', () => {
    const restoring = claimed(TRANSFER_STAGE.RESTORE, { refusal: !disabled.ok && disabled.error });
    expect(transferBooking(restoring, request)).toMatchObject({
      legs: [{ ledgerId: SOURCE, currency: 'EUR', delta: 1250n, counterparty: 'TRANSIT', restore: true }],
    });
    const outcome = transferOutcome(restoring, booked(SOURCE, 1250n, 2000n), at);
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: 'CURRENCY_NOT_ENABLED', details: { ledger_id: TARGET, currency: 'EUR', restored_to: SOURCE } },
      balanceChanges: [{ ledgerId: SOURCE, amount: 1250n }],
      steps: [{ name: 'SOURCE_RESTORED', status: 'COMPLETED' }],
    });
    expect(outcome.ok === false && outcome.error.message).toMatch(/returned to ledger/);
  });

  it('never gives up on restoring: a refused restore throws, so it is retried and left for an operator', () => {
    const restoring = claimed(TRANSFER_STAGE.RESTORE, { refusal: !disabled.ok && disabled.error });
    expect(() => transferOutcome(restoring, { ok: false, error: { code: 'BALANCE_OUT_OF_RANGE', message: 'x', details: {} } }, at)).toThrow(
      /restoring credit was refused/,
    );
  });

  it('refuses a malformed request before anything moves, and fails loudly on one past the debit', () => {
    expect(transferBooking(claimed(TRANSFER_STAGE.DEBIT), undefined)).toMatchObject({ refused: { ok: false, error: { code: 'MALFORMED_REQUEST' } } });
    expect(() => transferBooking(claimed(TRANSFER_STAGE.CREDIT), undefined)).toThrow(/cannot read/);
  });
});

describe('stored transfer requests', () => {
  it('parses back what was recorded', () => {
    const { request: recorded } = checkTransferFields({ fromLedgerId: SOURCE, toLedgerId: TARGET, transactionId: 't-1', currency: 'EUR', amount: 1250n, metadata: { z: '1', a: '2' } });
    expect(parseTransferRequest(JSON.parse(JSON.stringify(recorded)) as Record<string, unknown>)).toEqual(recorded);
  });

  it('reads a request stored without metadata as having none', () => {
    expect(parseTransferRequest({ toLedgerId: TARGET, currency: 'JPY', amount: '7' })).toEqual({ toLedgerId: TARGET, currency: 'JPY', amount: '7', metadata: {} });
  });

  it.each([
    ['a malformed target', { toLedgerId: 'x' }],
    ['an unknown currency', { currency: 'XYZ' }],
    ['a zero amount', { amount: '0' }],
    ['a number instead of a decimal string', { amount: 7 }],
    ['an amount beyond int64', { amount: '9223372036854775808' }],
    ['metadata that is not strings', { metadata: { a: 1 } }],
  ])('answers undefined for %s', (_, change) => {
    expect(parseTransferRequest({ toLedgerId: TARGET, currency: 'USD', amount: '5', metadata: {}, ...change })).toBeUndefined();
  });
});
