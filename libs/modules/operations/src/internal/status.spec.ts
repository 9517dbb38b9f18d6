import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, isTerminal, OPERATION_STATUSES, RETRIES_EXHAUSTED, TRANSITIONS } from './status.js';

/** The moves the machine makes, as the trigger in PostgreSQL enforces them (test/state-machine.test.ts checks the trigger). */
describe('operation state machine', () => {
  it('has exactly these moves', () => {
    expect(TRANSITIONS.map((t) => `${t.from} -> ${t.to}`).sort()).toEqual(
      [
        'PENDING -> PROCESSING',
        'PENDING -> CANCELLED',
        'PROCESSING -> PROCESSING',
        'PROCESSING -> COMPLETED',
        'PROCESSING -> FAILED',
        'PROCESSING -> PENDING',
        'FAILED -> PENDING',
      ].sort(),
    );
  });

  it('lets a worker claim, apply, fail, release or hand off an operation at any stage', () => {
    for (const stage of [0, 1]) {
      expect(canTransition({ status: 'PENDING', stage }, 'PROCESSING')).toBe(true);
      for (const to of ['PROCESSING', 'COMPLETED', 'FAILED', 'PENDING'] as const) expect(canTransition({ status: 'PROCESSING', stage }, to)).toBe(true);
    }
    // The claim knows only the status it moves from: the move needs nothing else.
    expect(canTransition({ status: 'PENDING' }, 'PROCESSING')).toBe(true);
  });

  it('cancels only at the first stage: a later stage waiting PENDING is in flight', () => {
    expect(canTransition({ status: 'PENDING', stage: 0 }, 'CANCELLED')).toBe(true);
    expect(canTransition({ status: 'PENDING', stage: 1 }, 'CANCELLED')).toBe(false);
    expect(canTransition({ status: 'PENDING' }, 'CANCELLED')).toBe(false); // stage unknown: not proven cancellable
    expect(canTransition({ status: 'PROCESSING', stage: 0 }, 'CANCELLED')).toBe(false);
  });

  it('requeues a FAILED operation only when it ran out of retries', () => {
    expect(canTransition({ status: 'FAILED', stage: 1, error: { code: RETRIES_EXHAUSTED } }, 'PENDING')).toBe(true);
    expect(canTransition({ status: 'FAILED', stage: 0, error: { code: 'INSUFFICIENT_FUNDS' } }, 'PENDING')).toBe(false);
    expect(canTransition({ status: 'FAILED', stage: 0 }, 'PENDING')).toBe(false); // error unknown
    expect(canTransition({ status: 'FAILED', error: { code: RETRIES_EXHAUSTED } }, 'PROCESSING')).toBe(false);
  });

  it('never skips PROCESSING, never stays PENDING, never leaves COMPLETED or CANCELLED', () => {
    const facts = { stage: 0, error: { code: RETRIES_EXHAUSTED } };
    expect(canTransition({ status: 'PENDING', ...facts }, 'COMPLETED')).toBe(false);
    expect(canTransition({ status: 'PENDING', ...facts }, 'FAILED')).toBe(false);
    expect(canTransition({ status: 'PENDING', ...facts }, 'PENDING')).toBe(false);
    for (const to of OPERATION_STATUSES) {
      expect(canTransition({ status: 'COMPLETED', ...facts }, to)).toBe(false);
      expect(canTransition({ status: 'CANCELLED', ...facts }, to)).toBe(false);
    }
  });

  it('ends at COMPLETED, FAILED and CANCELLED for clients; only an operator moves a FAILED one on', () => {
    expect(OPERATION_STATUSES.filter(isTerminal)).toEqual(['COMPLETED', 'FAILED', 'CANCELLED']);
    const outOfEnds = TRANSITIONS.filter((t) => isTerminal(t.from));
    expect(outOfEnds.map((t) => [t.from, t.to, t.by.startsWith('an operator')])).toEqual([['FAILED', 'PENDING', true]]);
  });

  it('fails loudly on a move the machine refuses, naming the operation and the condition', () => {
    expect(() => assertTransition({ id: 'op-1', status: 'COMPLETED' }, 'PENDING')).toThrow('operation op-1: status cannot move from COMPLETED to PENDING');
    expect(() => assertTransition({ id: 'op-2', status: 'PENDING', stage: 2 }, 'CANCELLED')).toThrow(
      'operation op-2: status cannot move from PENDING to CANCELLED (only at stage 0; stage 2, error unknown)',
    );
    expect(() => assertTransition({ status: 'FAILED', error: { code: 'INSUFFICIENT_FUNDS' } }, 'PENDING')).toThrow(
      `only when it failed ${RETRIES_EXHAUSTED}, never for a business reason; stage unknown, error INSUFFICIENT_FUNDS`,
    );
    expect(() => assertTransition({ id: 'op-3', status: 'PROCESSING', stage: 0, error: null }, 'COMPLETED')).not.toThrow();
  });
});
